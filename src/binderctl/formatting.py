"""How binderctl shows things, the same in the CLI and the console: ages like ``3m``,
sizes like ``1.2Gi``, rates like ``1.2Ki/s``, CPU like ``0.25 cores``, shares like
``95%``, repositories like ``org/repo``; and
untrusted text made safe to print (``inert``), names shortened in the middle
(``middle``), and laid out in columns (``table``)."""

from __future__ import annotations

import re
import time
import unicodedata

# What a terminal would act on or lay out wrongly: C0 and C1 controls (escape sequences,
# BEL, backspace, carriage return, line breaks), DEL, lone surrogates (undecodable
# bytes; printing one raises on a strict UTF-8 stream), line/paragraph separators and
# the bidirectional overrides that reorder what is shown.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_WHITESPACE = frozenset("\t\n\x0b\x0c\r")


def _replacement(match: re.Match[str]) -> str:
    char = match.group()
    if char in _WHITESPACE:
        return " "
    return "\ufffd" if "\ud800" <= char <= "\udfff" else "?"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        hours, rest = divmod(s, 3600)
        return f"{hours}h{rest // 60}m" if hours < 10 and rest >= 60 else f"{hours}h"
    return f"{s // 86400}d"


def size(num_bytes: float | None) -> str:
    if num_bytes is None:
        return "-"
    value = float(num_bytes)
    for unit in ("", "Ki", "Mi", "Gi", "Ti"):
        if abs(value) < 1024 or unit == "Ti":
            return f"{value:.0f}{unit}" if unit == "" or value >= 100 else f"{value:.1f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")


def cores(value: float | None) -> str:
    """A CPU figure in cores, to two significant digits and never finer than a
    millicore: ``0.004``, ``0.028``, ``0.25``, ``1.5``, ``12``."""
    if value is None:
        return "-"
    if value >= 10:
        return f"{value:.0f}"
    if value >= 0.01:
        return f"{value:.2g}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def cpu(value: float | None) -> str:
    """CPU with its unit (``0.25 cores``), so that it never reads as minutes (``250m``)."""
    if value is None:
        return "-"
    shown = cores(value)
    return f"{shown} core" if shown == "1" else f"{shown} cores"


def rate(bytes_per_second: float | None) -> str:
    """A transfer rate: ``830/s``, ``1.2Ki/s``, ``3.4Mi/s``."""
    return "-" if bytes_per_second is None else f"{size(bytes_per_second)}/s"


def packet_rate(per_second: float | None) -> str:
    """Packets a second: ``12 pkt/s``, ``3,100 pkt/s``."""
    return "-" if per_second is None else f"{per_second:,.0f} pkt/s"


def share(value: float | None) -> str:
    """A share as a percentage: ``7%``, ``100%``."""
    return "-" if value is None else f"{value:.0%}"


def repo_label(url: str) -> str:
    """A repository as people say it: ``org/repo`` for GitHub, ``host/path`` otherwise."""
    label = url.strip()
    for prefix in ("https://", "http://", "git://", "www.", "github.com/"):
        label = label.removeprefix(prefix)
    return label.rstrip("/").removesuffix(".git") or url


def moment(when: float | None, now: float) -> str:
    """A point in time in UTC with how long ago it was: ``2026-01-01 00:10:00 UTC (3m
    ago)``; ``-`` when unknown."""
    if when is None:
        return "-"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(when))
    return f"{stamp} ({age(now - when)} ago)"


def image_label(image: str) -> str:
    """A container image as its name and tag (``k8s-hub:4.1.0``): the registry (with its
    port) and the organisation dropped, a digest shortened. Only what comes before the
    tag is a path: a ``/`` after it is kept."""
    text = image.strip()
    start = 0
    for index, char in enumerate(text):
        if char == "/":
            start = index + 1
        elif char in ":@":
            rest = text[index + 1 :]
            if char == ":" and "/" in rest and rest.split("/", 1)[0].isdigit():
                continue  # a registry's port: host:5000/...
            break
    label = text[start:]
    if "@" in label:
        name, digest = label.split("@", 1)
        label = f"{name}@{digest.split(':', 1)[-1][:12]}"
    return label or image


def images_label(running: tuple[str, ...], template: str) -> str:
    """What a component runs beside what its template names: ``k8s-hub:4.1.0``, or while
    they differ ``k8s-hub:4.1.0 → k8s-hub:9.9.9-nope`` (``(none)`` when no pod is Ready)."""
    wanted = image_label(template) if template else ""
    shown = [image_label(i) for i in running]
    if not wanted or shown == [wanted]:
        return ", ".join(shown) or wanted or "-"
    return f"{', '.join(shown) or '(none)'} → {wanted}"


def cells(text: str) -> int:
    """The terminal columns ``text`` takes: wide (East Asian, emoji) characters take
    two, combining marks and other zero-width characters none."""
    if text.isascii():
        return len(text)
    return sum(_cells(char) for char in text)


def _cells(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _cut(text: str, limit: int) -> str:
    """The longest start of ``text`` that takes at most ``limit`` columns."""
    used = 0
    for index, char in enumerate(text):
        used += _cells(char)
        if used > limit:
            return text[:index]
    return text


def _cut_end(text: str, limit: int) -> str:
    """The longest end of ``text`` that takes at most ``limit`` columns."""
    used = 0
    for index in range(len(text) - 1, -1, -1):
        used += _cells(text[index])
        if used > limit:
            return text[index + 1 :]
    return text


def middle(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` columns, cut in the middle when it is longer: names
    differ at their end (``binder-examples-requirements-x7k2q``, an image's tag), so a
    third of the room keeps the start and the rest the end (``binder-…rements-x7k2q``)."""
    if cells(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    room = limit - 1
    head = room // 3
    return _cut(text, head) + "…" + _cut_end(text, room - head)


def inert(text: str, limit: int = 200) -> str:
    """One line of untrusted text that is safe to print, at most ``limit`` columns wide.

    Control characters become ``?`` (an escape sequence shows as ``?[2J`` and does
    nothing), tabs and line breaks become spaces, undecodable bytes (lone surrogates)
    become U+FFFD. Rich markup is left as it is: show the result as plain text.
    """
    if 2 * len(text) <= limit and text.isprintable():  # nothing to clean (the usual line)
        return text
    cleaned = _UNSAFE.sub(_replacement, text)
    if 2 * len(cleaned) <= limit or cells(cleaned) <= limit:  # no character takes 3 cells
        return cleaned
    return _cut(cleaned, limit - 1) + "…"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain left-aligned text table (columns measured in terminal cells)."""
    widths = [cells(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cells(cell))
    return "\n".join(
        "  ".join(c + " " * (widths[i] - cells(c)) for i, c in enumerate(row)).rstrip()
        for row in [headers, *rows]
    )
