"""A log view that stays fast under a flood of lines, with bounded memory.

Producer threads call ``feed`` (cheap: cleaning happens there, off the UI thread); a
timer on the UI thread moves what arrived into a ring buffer and repaints only the
visible rows (line API). Following pauses when the reader scrolls up and resumes at the
bottom. Lines are cleaned of escapes and shown without markup.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from binderctl.formatting import inert
from binderctl.models import LogLine

BUFFER_LINES = 20_000
LINE_LIMIT = 4_000  # characters kept of one line
DRAIN_SECONDS = 0.05
TIME_WIDTH = len("2026-01-01T00:00:00 ")
POD_WIDTH = 24
MATCH_STYLE = Style(reverse=True, bold=True)


class Entry(NamedTuple):
    seq: int
    time: str  # RFC 3339 as the runtime stamped it, or ""
    pod: str
    text: str


class LogView(ScrollView, can_focus=True):
    """Bounded, filterable, following log display."""

    follow: var[bool] = var(True)
    timestamps: var[bool] = var(False)
    wrap: var[bool] = var(False)
    pattern: var[str] = var("")
    show_pods: var[bool] = var(False)

    class Changed(Message):
        """Counts or modes changed (for a status line)."""

    def __init__(self, limit: int = BUFFER_LINES, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.limit = limit
        self.lines: deque[Entry] = deque(maxlen=limit)
        self._pending: deque[Entry] = deque(maxlen=limit)
        self._view: deque[Entry] = self.lines
        self._seq = 0
        self.received = 0  # lines fed since the last ``clear``
        # bumped by ``clear``: a producer still feeding what was shown before is ignored
        self.generation = 0
        self._feeding = threading.Lock()
        self._widest = 0
        self._offsets: list[int] | None = None  # wrapped row where each entry starts
        self._cache: LRUCache[tuple[int, int], Strip] = LRUCache(1024)
        self._scrolling = False
        self.pods_when_several = False  # turn show_pods on once a second pod's lines arrive

    def on_mount(self) -> None:
        self.set_interval(DRAIN_SECONDS, self._drain)

    # -- producer side (any thread) -------------------------------------------------

    def feed(self, lines: Iterable[LogLine], generation: int | None = None) -> None:
        """Queue lines; safe to call from a worker thread (cleaning happens here). Lines
        of an older ``generation`` than the view's (read before a ``clear``) are dropped."""
        pods: dict[str, str] = {}
        entries = []
        for line in lines:
            text = inert(line.text.expandtabs(), LINE_LIMIT)
            pod = pods.get(line.pod)
            if pod is None:
                pod = pods[line.pod] = inert(line.pod, POD_WIDTH)
            entries.append((line.time, pod, text))
        with self._feeding:
            if generation is not None and generation != self.generation:
                return
            for time, pod, text in entries:
                self._seq += 1
                self._pending.append(Entry(self._seq, time, pod, text))
            self.received += len(entries)

    def clear(self) -> None:
        """Forget every line and start counting again (a new source)."""
        with self._feeding:
            self.generation += 1
            self._pending.clear()
            self.received = 0
        self.lines.clear()
        self._widest = 0
        self._rebuild_view()

    # -- UI side --------------------------------------------------------------------

    @property
    def shown(self) -> int:
        return len(self._view)

    def _drain(self) -> None:
        pending = self._pending
        if not pending:
            return
        batch = [pending.popleft() for _ in range(len(pending))]
        view = self._view
        before = len(view)
        self.lines.extend(batch)
        if self.pods_when_several and not self.show_pods:
            first = self.lines[0].pod
            self.show_pods = any(entry.pod != first for entry in batch)
        added = len(batch)
        if view is not self.lines:
            needle = self.pattern.lower()
            matches = [e for e in batch if needle in e.text.lower()]
            added = len(matches)
            view.extend(matches)
            while view and view[0].seq < self.lines[0].seq:
                view.popleft()
        self._widest = max(self._widest, max(len(e.text) for e in batch))
        self._content_changed()
        removed = before + added - len(view)
        if removed and not self.follow and not self.wrap:
            self._scroll_by_program(self.scroll_y - removed)

    def _content_changed(self) -> None:
        self._offsets = None
        self.virtual_size = Size(self._content_width(), self._row_count())
        if self.follow:
            self._scroll_by_program(self.max_scroll_y)
        self.refresh()
        self.post_message(self.Changed())

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def _scroll_by_program(self, y: float) -> None:
        self._scrolling = True
        try:
            self.scroll_to(y=y, animate=False, immediate=True, force=True)
        finally:
            self._scrolling = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if not self._scrolling and round(old_value) != round(new_value):
            self.follow = new_value >= self.max_scroll_y

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self._scroll_by_program(self.max_scroll_y)
        self.post_message(self.Changed())

    def watch_timestamps(self) -> None:
        self._restyle()

    def watch_wrap(self) -> None:
        self._restyle()

    def watch_show_pods(self) -> None:
        self._restyle()

    def watch_pattern(self) -> None:
        self._rebuild_view()

    def _rebuild_view(self) -> None:
        if self.pattern:
            needle = self.pattern.lower()
            self._view = deque((e for e in self.lines if needle in e.text.lower()), self.limit)
        else:
            self._view = self.lines
        self._restyle()

    def _restyle(self) -> None:
        self._cache.clear()
        self._content_changed()

    def on_resize(self) -> None:
        if self.wrap:
            self._restyle()

    def _prefix_width(self) -> int:
        return (TIME_WIDTH if self.timestamps else 0) + (POD_WIDTH + 1 if self.show_pods else 0)

    def _text_width(self) -> int:
        return max(8, self.scrollable_content_region.width - self._prefix_width())

    def _content_width(self) -> int:
        if self.wrap:
            return self.scrollable_content_region.width
        return self._prefix_width() + self._widest

    def _rows_of(self, entry: Entry, width: int) -> int:
        return max(1, math.ceil(len(entry.text) / width))

    def _row_count(self) -> int:
        if not self.wrap:
            return len(self._view)
        return self._wrap_offsets()[-1]

    def _wrap_offsets(self) -> list[int]:
        if self._offsets is None:
            width = self._text_width()
            offsets = [0]
            total = 0
            for entry in self._view:
                total += self._rows_of(entry, width)
                offsets.append(total)
            self._offsets = offsets
        return self._offsets

    def _locate(self, row: int) -> tuple[int, int] | None:
        """(index in the view, wrapped sub-row) shown at content row ``row``."""
        if row < 0:
            return None
        if not self.wrap:
            return (row, 0) if row < len(self._view) else None
        offsets = self._wrap_offsets()
        if row >= offsets[-1]:
            return None
        lo, hi = 0, len(offsets) - 1
        while lo < hi - 1:
            mid = (lo + hi) // 2
            if offsets[mid] <= row:
                lo = mid
            else:
                hi = mid
        return lo, row - offsets[lo]

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        style = self.rich_style
        place = self._locate(scroll_y + y)
        if place is None:
            return Strip.blank(width, style)
        entry = self._view[place[0]]
        strip = self._strip(entry, place[1], style)
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def _strip(self, entry: Entry, sub_row: int, style: Style) -> Strip:
        key = (entry.seq, sub_row)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        text = entry.text
        if self.wrap:
            width = self._text_width()
            text = text[sub_row * width : (sub_row + 1) * width]
        line = Text(text, style=style, no_wrap=True, end="")
        if self.pattern:
            line.highlight_words([self.pattern], MATCH_STYLE, case_sensitive=False)
        prefix = []
        if self.timestamps:
            stamp = "" if sub_row else entry.time[: TIME_WIDTH - 1]
            prefix.append((stamp.ljust(TIME_WIDTH), "dim"))
        if self.show_pods:
            prefix.append((("" if sub_row else entry.pod).ljust(POD_WIDTH + 1), "cyan"))
        if prefix:
            line = Text.assemble(*prefix, line, style=style, end="")
        # Text.render drops the base style of span-less text: apply it to the segments.
        strip = Strip(line.render(self.app.console), line.cell_len).apply_style(style)
        self._cache[key] = strip
        return strip

    def export(self) -> Iterator[str]:
        """The shown lines as text, with the prefixes that are switched on."""
        for entry in self._view:
            parts = [entry.time] if self.timestamps and entry.time else []
            if self.show_pods:
                parts.append(entry.pod)
            yield " ".join([*parts, entry.text])
