"""What screens (and workers, from any thread) ask of the console: the app handles
each of these; a screen never calls the app."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.message_pump import MessagePump
from textual.worker import get_current_worker

from binderctl.config import MemberConfig
from binderctl.errors import BinderctlError
from binderctl.models import RotationVerdict
from binderctl.services.catalogue import Request

if TYPE_CHECKING:
    from binderctl.services.actions import Action, Prepared


@dataclass
class ShowScreen(Message):
    """Show the screen ``name`` (a mode of ``keymap.SCREENS``) with its ``argument``: a
    filter, or the Logs screen's source."""

    name: str
    argument: str | None = None


@dataclass
class Back(Message):
    """Show the screen that was shown before this one (the Dashboard when none was)."""


@dataclass
class RequestAction(Message):
    """Run an action of the catalogue (asks which target first if it has choices)."""

    request: Request


@dataclass
class PickTarget(Message):
    """Ask which target of the action ``action`` (its choices), then run it."""

    action: str


@dataclass
class StuckAfter(Message):
    """Count builds running longer than ``seconds`` as stuck (`:builds --stuck-after`)."""

    seconds: float


@dataclass
class ShowHelp(Message):
    """Show every key and command."""


@dataclass
class Quit(Message):
    """Leave the console."""


@dataclass
class Confirm(Message):
    """Ask the operator about ``action``; ``answer`` gets True only for yes. A worker
    posts it and waits for the answer."""

    action: Action
    prepared: Prepared
    answer: Future[bool]


ANSWER_POLL = 0.2  # seconds between looks at whether the console is closing


def ask(sender: MessagePump, action: Action, prepared: Prepared) -> bool:
    """From a worker thread: ask the operator (``Confirm``) and wait for the answer; No
    when the console closes first (its workers are cancelled: nobody will answer)."""
    answer: Future[bool] = Future()
    sender.post_message(Confirm(action, prepared, answer))
    worker = get_current_worker()
    while True:
        try:
            return answer.result(timeout=ANSWER_POLL)
        except TimeoutError:
            if worker.is_cancelled:
                return False


@dataclass
class Failed(Message):
    """Tell the operator what went wrong."""

    error: BinderctlError


@dataclass
class RotationObserved(Message):
    """The member as the federation redirector's rules judge it now."""

    verdict: RotationVerdict | None


@dataclass
class OpenMember(Message):
    """Switch the console to the configured member ``name``."""

    name: str


@dataclass
class MemberChosen(Message):
    """The console is about ``member`` now (the Provision screen saved it)."""

    member: MemberConfig


@dataclass
class Provisioned(Message):
    """The pipeline finished for ``member``: watch it live."""

    member: MemberConfig
