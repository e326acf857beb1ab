"""`binderctl watch`: evaluate the attention policy unattended and notify the targets;
`watch --once` for cron, `watch status`, `watch --install-systemd`."""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from typing import Any

from binderctl import auth
from binderctl.commands import Context, Subparsers, add_command
from binderctl.commands import rows as r
from binderctl.errors import ConfigError
from binderctl.formatting import age, inert
from binderctl.paths import write_private

EXIT_FIRING = 4
ONCE_SETTLE_SECONDS = 60.0  # --once: how long the first lists and polls may take


def _members(ctx: Context) -> list[Any]:
    if ctx.option("member"):
        return [ctx.member]
    members = list(ctx.config.members.values())
    if not members:
        ctx.config.member(None)  # raises the "no [members.<name>] table" message
    return members


def _senders(ctx: Context, client: Any) -> dict[str, Any]:
    from binderctl.services.notify import sender

    senders = {}
    for target in ctx.config.watch.targets:
        secret = auth.lookup(target.credential, target.name)
        senders[target.name] = sender(target, secret, client)
    return senders


def _watch(ctx: Context) -> int:
    if ctx.option("view") == "status":
        return _status(ctx)
    if ctx.option("install_systemd"):
        return _install(ctx)
    import httpx

    from binderctl.services.watch_findings import MemberJudge
    from binderctl.services.watcher import Watcher

    members = _members(ctx)
    with httpx.Client() as client, MemberJudge(ctx.config) as judge:
        watcher = Watcher(
            ctx.config,
            members,
            judge=judge,
            senders=_senders(ctx, client),
            readonly=bool(ctx.option("readonly")),
        )
        if not watcher.senders:
            ctx.info("note: no [watch.targets] in the configuration: notices are only logged")
        if ctx.option("once"):
            with watcher.outbox.locked():
                judge.settle(watcher.members, timeout=ONCE_SETTLE_SECONDS)
                watcher.evaluate()
                watcher.deliver()
            return EXIT_FIRING if watcher.firing() else 0
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        watcher.run(stop)
    return 0


def _status(ctx: Context) -> int:
    from binderctl.services.outbox import Outbox
    from binderctl.services.watcher import load_tracker, state_dir
    from binderctl.watch_config import DEFAULT_RULES

    root = state_dir()
    watch = ctx.config.watch
    outbox = Outbox(root / "outbox")
    queued = outbox.queued()
    now = time.time()
    members: dict[str, Any] = {}
    for member in _members(ctx):
        tracker = load_tracker(root, member.name)
        members[member.name] = [
            {
                "key": key,
                "kind": track.kind,
                "severity": track.severity,
                "text": track.text,
                "since": track.since,
                "firing": track.fired_at is not None,
            }
            for key, track in sorted(tracker.tracks.items())
        ]
    targets = [
        {
            "name": t.name,
            "kind": t.kind,
            "secret": auth.source(t.credential, t.name),
            "queued": sum(1 for q in queued if t.name in q.owed),
        }
        for t in watch.targets
    ]
    rules = {
        **{f"(default {sev})": vars(rule) for sev, rule in DEFAULT_RULES.items()},
        **watch.rules,
    }
    if ctx.json_output:
        ctx.emit_json(
            {
                "interval": watch.interval,
                "notify": watch.notify,
                "rules": rules,
                "targets": targets,
                "members": members,
                "outbox": [
                    {
                        "id": q.notice.id,
                        "kind": q.notice.kind,
                        "state": q.notice.state,
                        "owed": list(q.owed),
                        "at": q.notice.at,
                    }
                    for q in queued
                ],
            }
        )
        return 0
    print(f"evaluates every {age(watch.interval)}; sends {watch.notify} and worse")
    print()
    print(
        r.fit(
            ["RULE", "FOR", "REPEAT", "SEVERITY", "AUTO ACTION"],
            [
                [
                    inert(kind, 40),
                    age(rule["for_seconds"]) if "for_seconds" in rule else "(default)",
                    age(rule["repeat_seconds"]) if "repeat_seconds" in rule else "(default)",
                    str(rule.get("severity") or "-"),
                    str(rule.get("auto_action") or "-"),
                ]
                for kind, rule in rules.items()
            ],
            (0,),
        )
    )
    print()
    for name, items in members.items():
        if not items:
            print(f"{name}: nothing firing or pending")
        for item in items:
            state = "FIRING " if item["firing"] else "pending"
            print(
                f"{name}: {state} {item['severity']:<7} {inert(item['text'], 200)} "
                f"(for {age(now - item['since'])})"
            )
    print()
    if not targets:
        print("no targets configured ([watch.targets.<name>]): notices are only logged")
    for target in targets:
        secret = target["secret"] or f"MISSING: set {target['name']}'s secret"
        print(f"target {target['name']} ({target['kind']}): {target['queued']} queued; {secret}")
    return 0


def _install(ctx: Context) -> int:
    from binderctl.services import systemd_unit

    system = ctx.option("install_systemd") == "system"
    user = os.environ.get("SUDO_USER") or os.environ.get("USER") or "root"
    env_file = ctx.config_path.parent / "watch.env"
    text = systemd_unit.render(ctx.config_path, env_file, system, user)
    path = systemd_unit.unit_dir(system) / systemd_unit.UNIT_NAME
    try:
        write_private(path, text)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror}",
            hint="a system unit needs root: run it with sudo, or install a user unit",
        ) from None
    ctx.info(f"wrote {path}")
    ctx.info(
        f"put the targets' secrets in {env_file} (mode 0600), one NAME=value a line, e.g. "
        + ", ".join(t.credential.env for t in ctx.config.watch.targets)
    )
    ctx.info(systemd_unit.enable_hint(system))
    return 0


def register(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    parser = add_command(
        sub,
        common,
        "watch",
        "watch the member(s) unattended and notify [watch.targets] when something needs "
        "attention; `status`: what fires, the rules and the outbox",
        _watch,
    )
    parser.add_argument(
        "view", nargs="?", choices=("status",), help="status: rules, what fires, the outbox"
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help=f"evaluate once and exit (for cron): exit {EXIT_FIRING} while a rule fires, else 0",
    )
    parser.add_argument(
        "--install-systemd",
        nargs="?",
        const="user",
        choices=("user", "system"),
        metavar="user|system",
        help="write a systemd unit (default: a user unit) that runs `binderctl watch`",
    )
