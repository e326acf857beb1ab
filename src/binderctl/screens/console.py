"""What a screen may read of the console, and what it may ask of it.

Screens never import the app (``binderctl.app`` imports them). They read the console
through ``Console``, a narrow protocol the app satisfies, and ask for everything else
by posting a message from ``screens/messages.py``, which the app handles: any thread
may post one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual.screen import Screen

from binderctl.config import MemberConfig
from binderctl.models import History

if TYPE_CHECKING:
    from binderctl.screens.typing import Typing
    from binderctl.services.cluster import ClusterState
    from binderctl.services.kube import Kube
    from binderctl.widgets.header import HeaderState


class Console(Protocol):
    """The console as screens see it: read-only."""

    @property
    def member(self) -> MemberConfig: ...
    @property
    def readonly(self) -> bool: ...
    @property
    def demo(self) -> bool: ...
    @property
    def config_path(self) -> Path: ...
    @property
    def model(self) -> ClusterState | None:
        """The latest consistent copy of the live model (None until it has listed)."""

    @property
    def history(self) -> History:
        """The plot samples (a copy)."""

    @property
    def connect_error(self) -> str | None:
        """Why there is no live model."""

    @property
    def cert_expiry(self) -> float | None: ...
    @property
    def kube(self) -> Kube | None:
        """The live model's client (None until connected)."""

    @property
    def header_state(self) -> HeaderState: ...
    @property
    def services_ready(self) -> threading.Event:
        """Set once the service layer is imported: workers wait for it first."""

    @property
    def after_provision(self) -> Callable[[], None] | None:
        """What the Provision worker runs after a successful pipeline (the demo's)."""

    @property
    def clock(self) -> Callable[[], float]:
        """The time ages are computed against."""

    @property
    def typing(self) -> Typing:
        """The rhythm of the keys: whether the latest was typed with others."""

    def take_argument(self, screen: Screen) -> str | None:
        """The argument ``screen`` was asked to show with (`:sessions norvig`), once."""
        ...
