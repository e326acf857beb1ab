"""Time stamps as Kubernetes objects and the logs of each program write them."""

from __future__ import annotations

from datetime import UTC, datetime


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def rfc3339_micro(ts: float) -> str:
    return _dt(ts).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tornado(ts: float) -> str:
    """tornado.log.LogFormatter's default date format (BinderHub, the idle culler)."""
    return _dt(ts).strftime("%y%m%d %H:%M:%S")


def traitlets(ts: float) -> str:
    """JupyterHub's and Jupyter Server's ``%Y-%m-%d %H:%M:%S.mmm``."""
    return _dt(ts).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def clock_millis(ts: float) -> str:
    """configurable-http-proxy's ``%H:%M:%S.%L``."""
    return _dt(ts).strftime("%H:%M:%S.%f")[:-3]


def nanos(ts: float) -> str:
    """dockerd and logrus: RFC 3339 with nanoseconds."""
    return _dt(ts).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def klog(ts: float) -> str:
    """klog's ``MMDD hh:mm:ss.uuuuuu`` (after the level letter)."""
    return _dt(ts).strftime("%m%d %H:%M:%S.%f")


def http_date(ts: float) -> str:
    return _dt(ts).strftime("%a %b %e %H:%M:%S %Y")
