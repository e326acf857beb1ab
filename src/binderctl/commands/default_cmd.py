"""`binderctl` with no command: the console (or `--provision` headless, or `--demo`)."""

from __future__ import annotations

from binderctl.commands import Context


def run_default(ctx: Context) -> int:
    if ctx.option("provision"):
        from binderctl.commands.provision_cmd import run_provision

        return run_provision(ctx)
    from binderctl.app import BinderctlApp

    if ctx.option("demo"):
        from binderctl.demo.world import in_process_world

        with in_process_world() as world:
            ctx.info(f"demo world in {world.directory} (removed when the console quits)")
            app = BinderctlApp(
                ctx.member,
                readonly=ctx.readonly,
                start="provision",
                demo=True,
                config_path=ctx.config_path,
            )
            return app.run() or 0
    return BinderctlApp(ctx.member, readonly=ctx.readonly, config_path=ctx.config_path).run() or 0
