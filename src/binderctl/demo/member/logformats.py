"""The log line formats of the programs a member runs, from their sources.

- BinderHub and jupyterhub-idle-culler: tornado's ``LogFormatter`` defaults,
  ``[I 250101 12:00:00 module:line] message`` (no colour: stderr is not a TTY).
- JupyterHub: ``[I 2025-01-01 12:00:00.123 JupyterHub module:line] message``.
- Jupyter Server: ``[I 2025-01-01 12:00:00.123 ServerApp] message``.
- configurable-http-proxy (winston with colorize): ``12:00:00.123 [ConfigProxy] info: ...``
  with the level wrapped in ANSI colour codes, as it appears in ``kubectl logs``.
- dockerd, traefik, local-path-provisioner (logrus): ``time="..." level=info msg="..."``.
- metrics-server (klog): ``I0101 12:00:00.123456       1 file.go:123] message``.
- docker-image-cleaner (``logging.basicConfig(format="%(asctime)s %(message)s")``):
  ``2025-01-01 12:00:00,123 message``.
- repo2docker ``--json-logs``: ``{"message": "...\\n", "phase": "building"}``.
"""

from __future__ import annotations

import json

from binderctl.demo.member import stamps

_WINSTON_COLOURS = {"info": "\x1b[32m", "warn": "\x1b[33m", "error": "\x1b[31m"}


def tornado(level: str, ts: float, where: str, message: str) -> str:
    return f"[{level} {stamps.tornado(ts)} {where}] {message}"


def jupyterhub(level: str, ts: float, where: str, message: str) -> str:
    return f"[{level} {stamps.traitlets(ts)} JupyterHub {where}] {message}"


def jupyter_server(level: str, ts: float, app: str, message: str) -> str:
    return f"[{level} {stamps.traitlets(ts)} {app}] {message}"


def python_logging(ts: float, message: str) -> str:
    seconds, _, millis = stamps.traitlets(ts).rpartition(".")
    return f"{seconds},{millis} {message}"


def chp(level: str, ts: float, message: str) -> str:
    coloured = f"{_WINSTON_COLOURS[level]}{level}\x1b[39m"
    return f"{stamps.clock_millis(ts)} [ConfigProxy] {coloured}: {message}"


def _logfmt_value(value: object) -> str:
    text = str(value)
    if text and all(c.isalnum() or c in "-_./:" for c in text):
        return text
    return json.dumps(text)


def logrus(level: str, ts: float, message: str, **fields: object) -> str:
    extra = "".join(f" {key}={_logfmt_value(value)}" for key, value in fields.items())
    return f'time="{stamps.nanos(ts)}" level={level} msg={json.dumps(message)}{extra}'


def klog(level: str, ts: float, where: str, message: str) -> str:
    return f"{level}{stamps.klog(ts)}       1 {where}] {message}"


def repo2docker(message: str, phase: str) -> str:
    return json.dumps({"message": message + "\n", "phase": phase})
