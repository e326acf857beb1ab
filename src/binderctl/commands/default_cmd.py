"""`binderctl` with no command: the console (or `--provision` headless, or `--demo`)."""

from __future__ import annotations

from binderctl.commands import Context
from binderctl.config import MemberConfig

# Sessions already running when the demo member comes up, so every screen has rows.
DEMO_SESSIONS = 40


def run_default(ctx: Context) -> int:
    if ctx.option("provision"):
        from binderctl.commands.provision_cmd import run_provision

        return run_provision(ctx)
    from binderctl.console_log import console_log_path, logging_to

    path = console_log_path()
    with logging_to(path) as log:
        status = _run_console(ctx)
    if log.count:
        ctx.info(f"{log.count} warning(s) from this run are in {path}")
    return status


def _run_console(ctx: Context) -> int:
    from binderctl.app import BinderctlApp

    if ctx.option("demo"):
        from binderctl.demo.world import in_process_world

        with in_process_world(sessions=DEMO_SESSIONS) as world:
            ctx.info(f"demo world in {world.directory} (removed when the console quits)")
            app = BinderctlApp(
                ctx.member,
                readonly=ctx.readonly,
                start="provision",
                demo=True,
                config_path=ctx.config_path,
                after_provision=world.start_sessions,
            )
            return app.run() or 0
    if not ctx.config_path.exists():
        # A first run: the Provision screen's form writes the config.
        app = BinderctlApp(
            new_member(ctx.option("member") or ""),
            readonly=bool(ctx.option("readonly")),
            start="provision",
            config_path=ctx.config_path,
        )
        return app.run() or 0
    app = BinderctlApp(ctx.member, readonly=ctx.readonly, config_path=ctx.config_path)
    return app.run() or 0


def new_member(name: str) -> MemberConfig:
    """A member with nothing configured yet: what the Provision form starts from."""
    return MemberConfig(
        name=name, binder_host="", hub_host="", ssh_allowed_cidrs=(), api_allowed_cidrs=()
    )
