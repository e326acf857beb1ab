"""The baseline of the console-start benchmark: a bare Textual app that paints one line.

``python -m benchmarks.bare_app`` (what a Textual app costs before it does anything).
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

MARKER = "bare Textual app painted"


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(MARKER)


if __name__ == "__main__":
    BareApp().run()
