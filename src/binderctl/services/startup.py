"""The console's start: the live model first, the rest of the service layer after it.

One thread imports the service modules (first imports of the client libraries from two
threads at once can fail half-initialized), in the order the console needs them: what
the live model uses (the kubernetes client; httpx for BinderHub's ``/health``), then,
once the console has drawn the model's first picture, everything else (actions, logs,
the budget and session history, provisioning; hcloud, asyncssh, cryptography). The
console starts it once its first frame is drawn, so that nothing competes with that
frame for the interpreter.
"""

from __future__ import annotations

import importlib
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

from binderctl.config import MemberConfig

if TYPE_CHECKING:
    from binderctl.services.cluster import ClusterModel

MODEL_MODULES = (
    "kubernetes.client",
    "kubernetes.config",
    "httpx",
    "binderctl.services.kube",
    "binderctl.services.cluster",
    "binderctl.services.binderhub",
)
OTHER_MODULES = (
    "binderctl.services.actions",
    "binderctl.services.logs",
    "binderctl.services.budget_report",
    "binderctl.services.provision",
    "binderctl.services.hetzner",
)
# How long the other modules wait for the console to draw the live model (they would slow
# it down); only a member whose API does not answer makes them wait that long.
FIRST_DRAW_SECONDS = 3.0


def connect(member: MemberConfig, deferred_until: threading.Event | None = None) -> ClusterModel:
    """``member``'s live model, started (its ``kube`` is the API client);
    ``deferred_until`` as for ``ClusterModel``. Raises BinderctlError."""
    from binderctl.services.cluster import ClusterModel
    from binderctl.services.kube import Kube

    return ClusterModel(member, Kube(member), deferred_until=deferred_until).start()


class Startup:
    """Imports the service layer in one thread (``ready`` once every module is in) and,
    given a member, starts its live model as soon as the model's modules are in."""

    def __init__(self, member: MemberConfig | None = None) -> None:
        self.ready = threading.Event()
        self._drawn = threading.Event()
        self._member = member
        self._model: Future[ClusterModel] | None = None if member is None else Future()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._taken = False

    def start(self) -> Startup:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="binderctl-startup", daemon=True
                )
                self._thread.start()
        return self

    def _run(self) -> None:
        try:
            model = self._start_model()
            if model is not None:
                self._drawn.wait(FIRST_DRAW_SECONDS)
            for name in OTHER_MODULES:
                importlib.import_module(name)
        finally:
            self.ready.set()

    def _start_model(self) -> ClusterModel | None:
        """The live model's modules, then the model; whatever fails goes to whoever
        takes the model (without a member, it is raised here)."""
        try:
            for name in MODEL_MODULES:
                importlib.import_module(name)
            if self._member is None or self._model is None:
                return None
            model = connect(self._member, self.ready)
        except Exception as exc:
            if self._model is None:
                raise
            self._model.set_exception(exc)
            return None
        self._model.set_result(model)
        return model

    def drawn(self) -> None:
        """The console has drawn the live model: the rest of the service layer loads."""
        self._drawn.set()

    def _claim(self) -> Future[ClusterModel] | None:
        """The model started at start, to the first caller only."""
        with self._lock:
            future = None if self._taken else self._model
            self._taken = True
        return future

    def take_model(self) -> ClusterModel | None:
        """The live model started at start (waits for it; raises what ``connect``
        raised), once; then, or when started without a member, None."""
        future = self._claim()
        return None if future is None else future.result()

    def close(self) -> None:
        """Stop the live model started at start if no one took it."""
        future = self._claim()
        if future is not None:
            future.add_done_callback(_stop_model)


def _stop_model(future: Future[ClusterModel]) -> None:
    if future.exception() is None:
        model = future.result()
        model.stop()
        model.kube.close()
