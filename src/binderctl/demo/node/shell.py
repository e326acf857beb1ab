"""The commands the simulated node answers, with the output and exit codes of the real ones.

Simple commands only (``NAME=value cmd args``): pipes, redirections and lists are
refused with a message, so a client that relies on them fails loudly in tests.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from binderctl.demo.node import k3s
from binderctl.demo.node.cloudinit import RUNCMD_SCRIPT
from binderctl.demo.node.streams import Output

if TYPE_CHECKING:
    from binderctl.demo.node.machine import SimulatedNode

Handler = Callable[[list[str], dict[str, str], Output], Awaitable[int]]
KERNEL_RELEASE = "6.8.0-88-generic"
KERNEL_VERSION = "#89-Ubuntu SMP PREEMPT_DYNAMIC Sat Oct 11 01:02:46 UTC 2025"
_OPERATORS = set("();<>|&")
_STATUS_POLL = 0.25
ALWAYS_ACTIVE = ("ssh.service", "systemd-journald.service")


class Shell:
    """Runs one command line as root: ``bash -c`` for SSH, ``/bin/sh`` for runcmd."""

    def __init__(self, node: SimulatedNode) -> None:
        self._node = node
        self._commands: dict[str, Handler] = {
            "cat": self._cat,
            "cloud-init": self._cloud_init,
            "curl": self._curl,
            "df": self._df,
            "env": self._env,
            "hostname": self._hostname,
            "journalctl": self._journalctl,
            "k3s": self._k3s,
            "reboot": self._reboot,
            "sh": self._sh,
            "stat": self._stat,
            "sysctl": self._sysctl,
            "systemctl": self._systemctl,
            "tail": self._tail,
            "uname": self._uname,
        }

    async def run(self, line: str, io: Output, *, script_line: int | None = None) -> int:
        """Run ``line``; ``script_line`` set means as line N of the runcmd script (dash)."""
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:
            io.err("bash: -c: line 1: unexpected EOF while looking for matching quote\n")
            return 2
        if any(token and set(token) <= _OPERATORS for token in tokens):
            io.err("simulated node: pipes, redirections and command lists are not supported\n")
            return 2
        env: dict[str, str] = {}
        while tokens and "=" in tokens[0] and tokens[0].split("=", 1)[0].isidentifier():
            name, _, value = tokens.pop(0).partition("=")
            env[name] = value
        if not tokens:
            return 0
        return await self.call(tokens, env, io, script_line=script_line)

    async def call(
        self, argv: list[str], env: dict[str, str], io: Output, *, script_line: int | None = None
    ) -> int:
        name, args = argv[0], argv[1:]
        handler = self._commands.get(os.path.basename(name))
        if handler is None or (handler == self._k3s and not self._node.k3s.installed):
            if script_line is not None:
                io.err(f"{RUNCMD_SCRIPT}: {script_line}: {name}: not found\n")
            else:
                io.err(f"bash: line 1: {name}: command not found\n")
            return 127
        return await handler(args, env, io)

    # -- files -----------------------------------------------------------------

    async def _cat(self, args: list[str], env: dict[str, str], io: Output) -> int:
        status = 0
        for path in args:
            found = self._node.fs.get(path)
            if found is None:
                reason = (
                    "Is a directory" if self._node.fs.is_dir(path) else "No such file or directory"
                )
                io.err(f"cat: {path}: {reason}\n")
                status = 1
                continue
            io.out(found.content.decode(errors="replace"))
        return status

    async def _tail(self, args: list[str], env: dict[str, str], io: Output) -> int:
        count = 10
        paths: list[str] = []
        rest = list(args)
        while rest:
            arg = rest.pop(0)
            if arg == "-n" and rest:
                value = rest.pop(0)
            elif arg.startswith("-n"):
                value = arg[2:]
            else:
                paths.append(arg)
                continue
            if not value.isdigit():
                io.err(f"tail: invalid number of lines: \u2018{value}\u2019\n")
                return 1
            count = int(value)
        status = 0
        for path in paths:
            found = self._node.fs.get(path)
            if found is None:
                io.err(f"tail: cannot open '{path}' for reading: No such file or directory\n")
                status = 1
                continue
            lines = found.content.decode(errors="replace").splitlines(keepends=True)
            io.out("".join(lines[-count:] if count else []))
        return status

    async def _stat(self, args: list[str], env: dict[str, str], io: Output) -> int:
        if len(args) != 3 or args[0] != "-c":
            io.err("stat: the simulated node supports only: stat -c FORMAT FILE\n")
            return 1
        fmt, path = args[1], args[2]
        found = self._node.fs.get(path)
        if found is None:
            io.err(f"stat: cannot statx '{path}': No such file or directory\n")
            return 1
        fields = {
            "%a": f"{found.mode:o}",
            "%U": found.owner,
            "%G": found.group,
            "%s": str(len(found.content)),
            "%n": path,
        }
        for key, value in fields.items():
            fmt = fmt.replace(key, value)
        io.out(fmt + "\n")
        return 0

    async def _df(self, args: list[str], env: dict[str, str], io: Output) -> int:
        block = 1024
        fields = ["source", "size", "used", "avail", "pcent", "target"]
        paths: list[str] = []
        for arg in args:
            if arg in ("-B1", "--block-size=1"):
                block = 1
            elif arg.startswith("--output="):
                fields = arg.split("=", 1)[1].split(",")
            else:
                paths.append(arg)
        for path in paths:
            if not self._node.fs.exists(path):
                io.err(f"df: {path}: No such file or directory\n")
                return 1
        used, total = await self._node.disk_usage()
        values = {
            "source": "/dev/sda1",
            "size": str(-(-total // block)),
            "used": str(-(-used // block)),
            "avail": str((total - used) // block),
            "pcent": f"{-(-used * 100 // total)}%",
            "target": "/",
        }
        headers = {
            "source": "Filesystem",
            "size": "1B-blocks" if block == 1 else "1K-blocks",
            "used": "Used",
            "avail": "Avail",
            "pcent": "Use%",
            "target": "Mounted on",
        }
        unknown = [f for f in fields if f not in headers]
        if unknown:
            io.err(f"df: option --output: field \u2018{unknown[0]}\u2019 unknown\n")
            return 1
        rows = [[headers[f] for f in fields], [values[f] for f in fields]]
        widths = [max(len(row[i]) for row in rows) for i in range(len(fields))]
        for row in rows:
            cells = []
            for i, field in enumerate(fields):
                if field in ("source", "target"):
                    cells.append(row[i] if i == len(fields) - 1 else row[i].ljust(widths[i]))
                else:
                    cells.append(row[i].rjust(widths[i]))
            io.out(" ".join(cells) + "\n")
        return 0

    # -- system ----------------------------------------------------------------

    async def _hostname(self, args: list[str], env: dict[str, str], io: Output) -> int:
        io.out(self._node.name + "\n")
        return 0

    async def _uname(self, args: list[str], env: dict[str, str], io: Output) -> int:
        parts = {
            "-s": "Linux",
            "-n": self._node.name,
            "-r": KERNEL_RELEASE,
            "-v": KERNEL_VERSION,
            "-m": "x86_64",
        }
        if args == ["-a"]:
            io.out(
                f"Linux {self._node.name} {KERNEL_RELEASE} {KERNEL_VERSION} "
                "x86_64 x86_64 x86_64 GNU/Linux\n"
            )
            return 0
        unknown = [arg for arg in args if arg not in parts]
        if unknown:
            io.err(f"uname: invalid option -- '{unknown[0].lstrip('-')}'\n")
            return 1
        io.out(" ".join(parts[a] for a in (args or ["-s"])) + "\n")
        return 0

    async def _reboot(self, args: list[str], env: dict[str, str], io: Output) -> int:
        self._node.request_reboot()
        return 0

    async def _sysctl(self, args: list[str], env: dict[str, str], io: Output) -> int:
        sysctl = self._node.sysctl
        if args == ["--system"]:
            for path in sysctl.config_files():
                io.out(f"* Applying {path} ...\n")
                for key, value in sysctl.apply_file(path):
                    io.out(f"{key} = {value}\n")
            return 0
        if args and args[0] == "-p":
            path = args[1] if len(args) > 1 else "/etc/sysctl.conf"
            if self._node.fs.get(path) is None:
                io.err(f'sysctl: cannot open "{path}": No such file or directory\n')
                return 255
            for key, value in sysctl.apply_file(path):
                io.out(f"{key} = {value}\n")
            return 0
        value_only = "-n" in args
        status = 0
        for arg in (a for a in args if a not in ("-n", "-w")):
            key, is_write, value = arg.partition("=")
            if key not in sysctl.values:
                proc = "/proc/sys/" + key.replace(".", "/")
                io.err(f"sysctl: cannot stat {proc}: No such file or directory\n")
                status = 255
                continue
            if is_write:
                sysctl.values[key] = value.strip()
            shown = sysctl.values[key]
            io.out(f"{shown}\n" if value_only else f"{key} = {shown}\n")
        return status

    async def _systemctl(self, args: list[str], env: dict[str, str], io: Output) -> int:
        if not args:
            io.err("systemctl: the simulated node needs a verb (is-active, start, stop, restart)\n")
            return 1
        verb, units = args[0], [u if "." in u else f"{u}.service" for u in args[1:]]
        service = self._node.k3s
        if verb == "is-active":
            states = [
                service.state
                if u == k3s.UNIT and service.installed
                else "active"
                if u in ALWAYS_ACTIVE
                else "inactive"
                for u in units
            ]
            io.out("".join(f"{s}\n" for s in states))
            return 0 if states and all(s == "active" for s in states) else 3
        if verb not in ("start", "stop", "restart"):
            io.err(f"Unknown command verb '{verb}'.\n")
            return 1
        for unit in units:
            if unit != k3s.UNIT or not service.installed:
                io.err(f"Failed to {verb} {unit}: Unit {unit} not found.\n")
                return 5
        if verb == "stop":
            await service.stop()
            return 0
        started = await (service.restart() if verb == "restart" else service.start())
        if not started:
            io.err(k3s.JOB_FAILED)
            return 1
        return 0

    async def _journalctl(self, args: list[str], env: dict[str, str], io: Output) -> int:
        unit = ""
        lines = 1_000_000
        rest = list(args)
        while rest:
            arg = rest.pop(0)
            if arg in ("-u", "--unit") and rest:
                unit = rest.pop(0)
            elif arg.startswith("--unit="):
                unit = arg.split("=", 1)[1]
            elif arg in ("-n", "--lines") and rest:
                lines = int(rest.pop(0)) if rest[0].isdigit() else -1
            elif arg.startswith("--lines="):
                value = arg.split("=", 1)[1]
                lines = int(value) if value.isdigit() else -1
            elif arg not in ("--no-pager", "-q", "--quiet"):
                io.err(f"journalctl: the simulated node does not support {arg!r}\n")
                return 1
            if lines < 0:
                io.err("Failed to parse lines argument.\n")
                return 1
        unit = unit if "." in unit else f"{unit}.service"
        io.out("".join(f"{line}\n" for line in self._node.journal.tail(unit, lines)))
        return 0

    # -- cloud-init ------------------------------------------------------------

    async def _cloud_init(self, args: list[str], env: dict[str, str], io: Output) -> int:
        if not args or args[0] != "status":
            shown = args[0] if args else ""
            io.err(
                "usage: /usr/bin/cloud-init [-h] [--version] [--debug] [--force] "
                "[--all-stages] {init,modules,single,query,features,analyze,devel,collect-logs,"
                "clean,status,schema} ...\n"
                f"/usr/bin/cloud-init: error: argument subcommand: invalid choice: '{shown}'\n"
            )
            return 2
        wait = long = False
        fmt = "tabular"
        rest = args[1:]
        while rest:
            arg = rest.pop(0)
            if arg in ("-w", "--wait"):
                wait = True
            elif arg in ("-l", "--long"):
                long = True
            elif arg == "--format" and rest:
                fmt = rest.pop(0)
            elif arg.startswith("--format="):
                fmt = arg.split("=", 1)[1]
            else:
                io.err(f"/usr/bin/cloud-init: error: unrecognized arguments: {arg}\n")
                return 2
        if fmt not in ("json", "tabular", "yaml"):
            io.err(
                "/usr/bin/cloud-init status: error: argument --format: invalid choice: "
                f"'{fmt}' (choose from 'json', 'tabular', 'yaml')\n"
            )
            return 2
        cloud_init = self._node.cloud_init
        while wait and not cloud_init.done:
            if io.closing:
                return 130
            if fmt == "tabular":
                io.out(".")
            await cloud_init.wait_changed(_STATUS_POLL)
        text, code = cloud_init.render_status(fmt, long, waited=wait)
        io.out(text)
        return code

    # -- k3s -------------------------------------------------------------------

    async def _k3s(self, args: list[str], env: dict[str, str], io: Output) -> int:
        service = self._node.k3s
        if args in (["--version"], ["-v"], ["version"]):
            binary = service.binary_version()
            io.out(f"k3s version {binary} ({k3s.commit_of(binary)})\ngo version go1.22.9\n")
            return 0
        if args[:2] == ["crictl", "rmi"] and args[2:] in (["--prune"], ["-q"]):
            return await service.prune_images(io)
        if args == ["certificate", "rotate"]:
            return service.rotate_certificates(io)
        io.err(f"No help topic for '{' '.join(args[:1])}'\n")
        return 3

    async def _curl(self, args: list[str], env: dict[str, str], io: Output) -> int:
        output_path = None
        url = ""
        show_errors = True
        rest = list(args)
        while rest:
            arg = rest.pop(0)
            if arg in ("-o", "--output") and rest:
                output_path = rest.pop(0)
            elif arg in ("--retry", "--max-time", "--connect-timeout") and rest:
                rest.pop(0)
            elif arg.startswith("--"):
                continue
            elif arg.startswith("-"):
                if "s" in arg and "S" not in arg:
                    show_errors = False
            else:
                url = arg
        if url.rstrip("/") != k3s.INSTALLER_URL:
            host = url.split("://", 1)[-1].split("/", 1)[0]
            if show_errors:
                io.err(f"curl: (6) Could not resolve host: {host}\n")
            return 6
        if output_path is None:
            io.out(k3s.INSTALLER_SCRIPT)
        else:
            self._node.fs.write(output_path, k3s.INSTALLER_SCRIPT)
        return 0

    async def _sh(self, args: list[str], env: dict[str, str], io: Output) -> int:
        if not args:
            io.err("sh: the simulated node runs script files only: sh FILE\n")
            return 2
        found = self._node.fs.get(args[0])
        if found is None:
            io.err(f"sh: 0: cannot open {args[0]}: No such file\n")
            return 2
        if found.content.decode(errors="replace") != k3s.INSTALLER_SCRIPT:
            io.err("simulated node: the only script it can run is the k3s install script\n")
            return 2
        return await self._node.k3s.install(env, args[1:], io)

    async def _env(self, args: list[str], env: dict[str, str], io: Output) -> int:
        merged = dict(env)
        rest = list(args)
        while rest and "=" in rest[0]:
            name, _, value = rest.pop(0).partition("=")
            merged[name] = value
        if not rest:
            io.out("".join(f"{k}={v}\n" for k, v in merged.items()))
            return 0
        return await self.call(rest, merged, io)
