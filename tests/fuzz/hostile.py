"""A cluster full of hostile strings, served by the Kubernetes API emulator.

Anonymous users choose repo URLs and refs; pod names, labels, event messages and log
lines can carry whatever a container or a compromised component writes. The objects
go straight into the store (no validation), as a misbehaving API server could serve
them. Strings that cannot travel in JSON as bytes (invalid UTF-8) arrive as lone
surrogates (JSON ``\\udcff`` escapes); in logs they are raw bytes.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from binderctl.demo.cluster import KubeStack
from binderctl.demo.kube import types
from binderctl.demo.kube.memlogs import MemoryLogs
from binderctl.demo.kube.store import Obj
from tests.kit.k3s import RunningStack, run_stack

NAMESPACE = "binderhub"
ESCAPES = "\x1b[2J\x1b[H\x1b[31mred\x1b[0m"
OSC8 = "\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
TITLE_BEL = "\x1b]0;pwned\x07\x07"
C1 = "\x9b31m\x9d0;c1-title\x9c"
MARKUP = "[bold red]bold[/bold red][link=http://evil]x[/link][/]"
SURROGATES = "\udcff\udc9b\ud800"
BIDI = "\u202egnp.exe\u2066"
BREAKS = "one\nFAKE ROW\rtwo\ttab"
LONG = "L" * 10_000
WIDE = "\u6f22\u5b57\U0001f600e\u0301" * 200  # two cells, two cells, two cells, one cell
EVERYTHING = ESCAPES + OSC8 + TITLE_BEL + C1 + MARKUP + SURROGATES + BIDI + BREAKS
# Log lines are bytes on the wire: \udcXX stands for the raw byte XX (0x9b is CSI in
# 8-bit terminals). No line breaks: MemoryLogs splits lines.
LOG_LINES = [
    ESCAPES,
    OSC8,
    TITLE_BEL,
    C1,
    MARKUP,
    "raw bytes \udcff\udcfe\udc9b[2J",
    BIDI,
    LONG * 3,
]
BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def unsafe_characters(text: str) -> set[str]:
    """What must never reach a terminal from cluster data: controls (but the line
    breaks binderctl prints itself), lone surrogates, bidi overrides, separators."""
    return {
        c
        for c in text
        if c != "\n" and (unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in BIDI_CONTROLS)
    }


def _pod(name: str, labels: dict[str, str], container: Obj, **extra: Obj) -> Obj:
    return {
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels, **extra},
        "spec": {"nodeName": "member-node", "restartPolicy": "Never", "containers": [container]},
        "status": {
            "phase": "Running",
            "startTime": "2026-01-01T00:00:00Z",
            "containerStatuses": [
                {"name": container["name"], "restartCount": 0, "state": {"running": {}}}
            ],
        },
    }


def _session(name: str, user: str, repo: str, ref: str) -> Obj:
    labels = {"component": "singleuser-server", "hub.jupyter.org/username": user}
    env = [
        {"name": "BINDER_REPO_URL", "value": repo},
        {"name": "BINDER_REF_URL", "value": f"{repo}/tree/{ref}"},
    ]
    return _pod(name, labels, {"name": "notebook", "image": f"r/{ref}:{ref}", "env": env})


def _build(name: str, repo: str, ref: str) -> Obj:
    labels = {"component": "binderhub-build", "name": name}
    builder = {"name": "builder", "image": "repo2docker", "args": ["--ref", ref]}
    return _pod(name, labels, builder, annotations={"binder-repo": repo})


def _warning(name: str, reason: str, involved: str, message: str) -> Obj:
    return {
        "metadata": {"name": name, "namespace": NAMESPACE},
        "type": "Warning",
        "reason": reason,
        "message": message,
        "involvedObject": {"kind": "Pod", "name": involved, "namespace": NAMESPACE},
        "lastTimestamp": "2026-01-01T00:00:00Z",
        "count": 3,
    }


def _node() -> Obj:
    return {
        "metadata": {"name": "member-node"},
        "spec": {},
        "status": {
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "message": ESCAPES}],
        },
    }


def _hub_deployment(image: str) -> Obj:
    labels = {"component": "hub"}
    return {
        "metadata": {"name": "hub", "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "hub", "image": image}]},
            },
        },
        "status": {"readyReplicas": 1, "replicas": 1},
    }


def hostile_objects() -> list[tuple[types.ResourceType, Obj]]:
    """Sessions, builds, warnings and a hub whose every free-text field is hostile."""
    return [
        (types.NODES, _node()),
        (types.DEPLOYMENTS, _hub_deployment(f"hub:{ESCAPES}")),
        (types.PODS, _pod("hub-0", {"component": "hub"}, {"name": "hub", "image": "hub"})),
        (types.PODS, _session(f"jupyter-{ESCAPES}", OSC8, f"https://github.com/{MARKUP}", C1)),
        (types.PODS, _session(f"jupyter-{LONG}", LONG, f"https://github.com/{LONG}", LONG)),
        (types.PODS, _session("jupyter-x", SURROGATES, f"https://x/{EVERYTHING}", EVERYTHING)),
        (types.PODS, _session("jupyter-wide", WIDE, f"https://github.com/{WIDE}", WIDE)),
        (types.PODS, _build(f"build-{ESCAPES}", f"https://github.com/{MARKUP}", TITLE_BEL)),
        (types.PODS, _build("build-long", f"https://github.com/{LONG}", SURROGATES + LONG)),
        (types.EVENTS, _warning("w1", ESCAPES, f"jupyter-{OSC8}", MARKUP + EVERYTHING)),
        (types.EVENTS, _warning("w2", LONG, LONG, LONG)),
        (types.EVENTS, _warning("w3", BIDI, SURROGATES, BREAKS)),
    ]


def start(kubeconfig: Path) -> RunningStack[KubeStack]:
    """Serve the hostile objects (and hostile lines in the hub's log) on 127.0.0.1, with
    no control plane: nothing tidies them up."""
    logs = MemoryLogs()
    running = run_stack(KubeStack(logs, speed=None), kubeconfig)

    def fill() -> None:
        for rt, obj in hostile_objects():
            running.store.create(rt, obj)
        for line in LOG_LINES:
            logs.write(NAMESPACE, "hub-0", "hub", line)

    running.on_loop(fill)
    return running
