"""Private files written from several threads at once (the console's workers do)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from binderctl.paths import write_private

WRITERS = 4
WRITES = 200


def test_threads_writing_one_file_at_once_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "prices.json"

    def write(writer: int) -> None:
        for n in range(WRITES):
            write_private(path, f"writer {writer} write {n}")

    with ThreadPoolExecutor(WRITERS) as pool:
        for done in [pool.submit(write, writer) for writer in range(WRITERS)]:
            done.result()  # re-raises what a writer raised
    assert path.read_text().endswith(f"write {WRITES - 1}")
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["prices.json"]  # no temp file left
