"""Typed text is never a command.

Someone who types a search where no search box is (on the Dashboard,
``/binder-examples/requirements`` then Enter) presses, among others, ``r``, ``D``, ``q``
and Enter. The console tells typing from a command by its rhythm, as people type:

- a key that opens an action's dialog (``D``, ``U``, ``P``, ``r``, and ``q``, which asks
  before quitting) is held for ``TYPING_GAP``: another key within that time (the next
  letter of a word, or Enter) drops it, and so does a key just before it: only a key
  pressed on its own is a command. The console says so, once per burst of keys;
- an answer that acts (``y`` in a confirmation, a pick in a chooser that leads to an
  action) counts only once its dialog has been on screen for ``READ_SECONDS``, and only
  when it does not follow another key within ``TYPING_GAP``;
- a key that shows another screen (``1``-``9``, ``a``) or opens a row's details
  (Enter) is a letter of a word when it follows another key within ``TYPING_GAP``;
- Enter never says yes (a confirmation's Enter is No) and picks nothing by itself (the
  action's chooser starts with nothing highlighted).

``ctrl`` chords (``ctrl+d``, ``ctrl+q``) are not text and act at once.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass

from textual.timer import Timer

TYPING_GAP = 0.4  # keys closer together than this are typing (typists: 0.1-0.3 s apart)
READ_SECONDS = 0.6  # how long a dialog is shown before an answer that acts counts
HINT = "keys typed together are not commands: / filters a list, : runs a command"
# what the help screen says of it
HELP = (
    ("D U P r q", "act only when pressed on their own: keys typed together are typing"),
    ("y, a pick", "count once the dialog has been read; enter never says yes"),
    ("ctrl+q", "quit at once (q asks first)"),
)


@dataclass
class _Held:
    key: str
    run: Callable[[], None]
    timer: Timer


class Typing:
    """The rhythm of the keys pressed in one console (times are Key events' ``time``)."""

    def __init__(
        self,
        notify: Callable[[str], None],
        later: Callable[[float, Callable[[], None]], Timer],
    ) -> None:
        self._notify = notify
        self._later = later
        self.last = float("-inf")  # when the latest key was pressed
        self.previous = float("-inf")  # when the key before it was
        self._burst = float("-inf")  # when the burst of keys the latest is part of began
        self._told = float("-inf")  # the burst the operator was last told about
        self._held: _Held | None = None
        self._arrived = float("-inf")  # when the latest key reached the console (monotonic)

    def pressed(self, time: float) -> None:
        """Every key, before anything handles it: a held key followed this soon was
        part of typed text and is dropped."""
        self.previous, self.last = self.last, time
        self._arrived = clock.monotonic()
        if not self.typing:
            self._burst = time
        held = self._held
        if held is not None:
            self._held = None
            held.timer.stop()
            self.ignored(held.key)

    def ignored(self, key: str) -> None:
        """Say (once per burst of keys) that ``key`` was taken as typing."""
        if self._told != self._burst:
            self._told = self._burst
            self._notify(f"{key} ignored: it came with other keys ({HINT})")

    @property
    def typing(self) -> bool:
        """Whether the latest key followed another within ``TYPING_GAP``."""
        return self.last - self.previous < TYPING_GAP

    def amid(self, key: str) -> bool:
        """Whether ``key``, being handled now, was typed amid others (not a click, nor a
        key pressed on its own): then it is a letter of a word, and the console says so."""
        typed = self.typing and clock.monotonic() - self._arrived < TYPING_GAP
        if typed:
            self.ignored(key)
        return typed

    def hold(self, key: str, run: Callable[[], None]) -> None:
        """Run ``run`` (what ``key`` does) once ``TYPING_GAP`` passes with no other key;
        a key that followed another within the gap is dropped at once."""
        if self.typing:
            self.ignored(key)
            return

        def fire() -> None:
            if self._held is held:
                self._held = None
                run()

        held = _Held(key, run, self._later(TYPING_GAP, fire))
        self._held = held

    def deliberate(self, shown: float) -> bool:
        """Whether the latest key is an answer to a dialog shown at ``shown``: read for
        ``READ_SECONDS`` and not typed right after another key."""
        return not self.typing and self.last - shown >= READ_SECONDS
