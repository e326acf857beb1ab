"""The provisioning fault campaign at full size (the CI form is tests/faults).

    .venv/bin/python scripts/fault_campaign.py --runs 200 --workers 2

Each run starts a fresh demo world, injects one to three faults drawn from its seed
(tests/faults/fault_catalogue.py) and provisions the member: every ``--cli-every``-th
run through the real ``binderctl --provision --yes`` as a subprocess, the others with
the pipeline in-process (quicker, and with a short client timeout so that answers held
by the emulator time out). A failed run must say why without a traceback and finish
when run again without faults. Afterwards Hetzner's resources are compared with
``provision.json``. Prints one line per run and the counts; exit 0 when there was no
failed resume, unclear failure, duplicate, orphan or unsound end state.

Bounded in time: no run starts after ``--max-minutes``; a run that hangs is stopped by
its own timeouts (the pipeline's per-step timeout, the CLI subprocess timeout).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests package

from tests.faults.fault_runs import RunRecord, Tally, Via, provision_run


def _line(record: RunRecord) -> str:
    if record.first.ok:
        outcome = "completed"
    elif record.resumed is not None and record.resumed.ok:
        outcome = "failed, resumed"
    else:
        outcome = "RESUME FAILED"
    hits = sum(record.hits.values())
    first = "" if record.first.ok else f"\n    {record.first.message.splitlines()[0]}"
    return f"seed {record.seed:4} {record.via:10} {outcome:15} {hits} hit: {record.faults}{first}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2, help="runs at once (processes)")
    parser.add_argument("--cli-every", type=int, default=4, help="every Nth run via the CLI")
    parser.add_argument("--max-minutes", type=float, default=60.0)
    args = parser.parse_args(argv)
    seeds = iter(range(args.first_seed, args.first_seed + args.runs))
    deadline = time.monotonic() + 60 * args.max_minutes
    started = time.monotonic()
    tally = Tally()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        running: set[Future[RunRecord]] = set()
        while True:
            while len(running) < args.workers and time.monotonic() < deadline:
                seed = next(seeds, None)
                if seed is None:
                    break
                via: Via = "cli" if seed % args.cli_every == 0 else "in-process"
                running.add(pool.submit(provision_run, seed, via))
            if not running:
                break
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                record = future.result()
                tally.add(record)
                print(_line(record), flush=True)
    minutes = (time.monotonic() - started) / 60
    print(f"\n{tally.runs} of {args.runs} runs in {minutes:.1f} min\n{tally.report()}")
    return 0 if tally.clean and tally.runs == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
