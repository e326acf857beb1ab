"""Pure functions of the live model: objects -> rows, quantities, repo matching, logs."""

from __future__ import annotations

import time

import pytest

from binderctl.errors import UsageError
from binderctl.models import Rotation
from binderctl.services import mapping
from binderctl.services.cluster import ClusterIndex
from binderctl.services.logs import log_target, split_timestamp
from binderctl.services.repos import normalize_repo, repo_matches
from binderctl.services.watch import iter_lines


def session_pod(name: str, repo: str, ref: str, phase: str = "Running") -> dict:
    return {
        "metadata": {
            "name": name,
            "namespace": "binderhub",
            "uid": f"uid-{name}",
            "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "labels": {
                "component": "singleuser-server",
                "app": "jupyterhub",
                "hub.jupyter.org/username": name.removeprefix("jupyter-"),
            },
        },
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {
                    "name": "notebook",
                    "image": f"localhost:30500/binder-x-2dy-abc123:{ref}",
                    "env": [
                        {"name": "JUPYTERHUB_USER", "value": "u"},
                        {"name": "BINDER_REPO_URL", "value": repo},
                        {"name": "BINDER_REF_URL", "value": f"{repo}/tree/{ref}"},
                    ],
                }
            ],
        },
        "status": {"phase": phase, "containerStatuses": [{"name": "notebook", "restartCount": 2}]},
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", 0.1),
        ("48", 48.0),
        ("1500n", 1.5e-6),
        ("2Gi", 2 * 2**30),
        ("450M", 450e6),
        ("123456Ki", 123456 * 1024),
        ("1e3", 1000.0),
        (7, 7.0),
        ("", None),
        ("lots", None),
        (None, None),
    ],
)
def test_quantity(text: object, value: float | None) -> None:
    assert mapping.quantity(text) == value


def test_session_from_pod_reads_env_and_labels() -> None:
    pod = session_pod("jupyter-alice", "https://github.com/org/repo", "abc123")
    session = mapping.session_from_pod(pod, (0.25, 1024))
    assert (session.user, session.repo, session.ref) == (
        "alice",
        "https://github.com/org/repo",
        "abc123",
    )
    assert (session.phase, session.restarts, session.cpu, session.memory) == (
        "Running",
        2,
        0.25,
        1024,
    )


def test_session_without_env_falls_back_to_image() -> None:
    pod = session_pod("jupyter-bob", "https://example.org/r", "f00d")
    pod["spec"]["containers"][0]["env"] = []
    session = mapping.session_from_pod(pod)
    assert session.repo == "localhost:30500/binder-x-2dy-abc123"
    assert session.ref == "f00d"


def test_terminating_pod_phase() -> None:
    pod = session_pod("jupyter-c", "https://github.com/o/r", "1")
    pod["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    assert mapping.session_from_pod(pod).phase == "Terminating"


def test_build_stuck_flag_depends_on_age() -> None:
    now = time.time()
    pod = {
        "metadata": {
            "name": "build-org-2drepo-abc-123456",
            "namespace": "binderhub",
            "labels": {"component": "binderhub-build"},
            "annotations": {"binder-repo": "https://github.com/org/repo"},
        },
        "spec": {"containers": [{"name": "builder", "args": ["--ref", "123456", "x"]}]},
        "status": {
            "phase": "Running",
            "startTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 100)),
        },
    }
    assert not mapping.build_from_pod(pod, now, stuck_after=1000).stuck
    build = mapping.build_from_pod(pod, now, stuck_after=10)
    assert build.stuck and build.ref == "123456" and build.repo.endswith("org/repo")


def test_index_emits_only_real_changes_and_removals() -> None:
    from binderctl.config import MemberConfig

    member = MemberConfig("m", "m.example.org", "hub.m.example.org", ("10.0.0.0/8",), ())
    changes: list[tuple] = []
    # started a minute ago: the pod's creationTimestamp (whole seconds) is after it
    index = ClusterIndex(member, lambda *c: changes.append(c), started=time.time() - 60)
    pod = session_pod("jupyter-a", "https://github.com/o/r", "1")
    index.pods.apply("ADDED", pod)
    index.pods.apply("MODIFIED", pod)  # same row: no change
    assert [c[0] for c in changes] == ["session"]
    index.pods.sync([])  # a re-list without the pod removes it, and notes it ended
    assert [c[0] for c in changes[-2:]] == ["session", "departure"]
    assert changes[-2][3] is None and changes[-1][3].pod == "binderhub/jupyter-a"
    assert index.pods.launches_total == 1 and len(index.pods.launches) == 1


@pytest.mark.parametrize(
    ("wanted", "repo", "match"),
    [
        ("https://github.com/org/repo", "https://github.com/org/repo", True),
        ("github.com/Org/Repo.git", "https://github.com/org/repo/", True),
        ("org/repo", "https://github.com/org/repo", True),
        ("org/repo", "https://github.com/org/repo2", False),
        ("org/rep", "https://github.com/org/repo", False),
        ("https://gitlab.com/org/repo", "https://github.com/org/repo", False),
    ],
)
def test_repo_matching_is_exact(wanted: str, repo: str, match: bool) -> None:
    assert repo_matches(wanted, repo) is match
    assert normalize_repo(repo) == normalize_repo(repo.upper())


def test_rotation_problem_names_a_cordon_that_blocks_the_drain() -> None:
    drained = Rotation(quota=0, cordoned=False, drain_recorded=True, previous_quota=100)
    assert not drained.in_rotation and drained.problem is None  # drain does not cordon
    assert Rotation(quota=100, cordoned=False).problem is None
    for quota in (0, 50):  # a cordon keeps the install job and new binder pods Pending
        problem = Rotation(quota=quota, cordoned=True, drain_recorded=True).problem or ""
        assert "cordoned" in problem and "install job" in problem


def test_split_timestamp() -> None:
    assert split_timestamp("2024-05-01T12:00:00.123456789Z hello world") == (
        "2024-05-01T12:00:00.123456789Z",
        "hello world",
    )
    assert split_timestamp("no time here") == ("", "no time here")


def test_log_targets() -> None:
    assert log_target("hub").label_selector == "component=hub"
    assert log_target("dind").label_selector == "component=image-builder"
    assert log_target("builds").label_selector == "component=binderhub-build"
    target = log_target("binderhub/jupyter-x")
    assert (target.namespace, target.pod) == ("binderhub", "jupyter-x")
    with pytest.raises(UsageError, match="not a log target"):
        log_target("a b;rm")


class _Chunks:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def stream(self, amt: object = None, decode_content: bool = False) -> list[bytes]:
        return self.chunks


def test_iter_lines_joins_split_lines() -> None:
    chunks = [b'{"a":', b"1}\n{", b'"b":2}\n\n', b"tail"]
    assert list(iter_lines(_Chunks(chunks))) == [b'{"a":1}', b'{"b":2}', b"tail"]
