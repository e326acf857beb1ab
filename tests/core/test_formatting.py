"""The one presentation of figures and labels, and that the CLI and the console use it."""

from __future__ import annotations

import pytest

from binderctl.commands.rows import SESSION_HEADERS, session_row
from binderctl.formatting import (
    cores,
    cpu,
    image_label,
    images_label,
    moment,
    packet_rate,
    rate,
    repo_label,
    share,
)
from binderctl.models import Session
from binderctl.screens.sessions import SessionsScreen
from binderctl.screens.sessions import session_row as console_row


@pytest.mark.parametrize(
    ("image", "label"),
    [
        ("quay.io/jupyterhub/k8s-hub:4.1.0", "k8s-hub:4.1.0"),
        ("localhost:5000/org/img:tag", "img:tag"),  # a registry's port is not a tag
        ("docker:28.3.3-dind", "docker:28.3.3-dind"),
        ("r/img@sha256:0123456789abcdef0123", "img@0123456789ab"),
        ("hub:\x1b[2J/../x", "hub:\x1b[2J/../x"),  # a slash after the tag stays shown
        ("", ""),
    ],
)
def test_image_labels(image: str, label: str) -> None:
    assert image_label(image) == label


def test_what_a_component_runs_beside_its_template() -> None:
    old, new = "quay.io/j/k8s-hub:4.1.0", "quay.io/j/k8s-hub:9.9.9-nope"
    assert images_label((old,), old) == "k8s-hub:4.1.0"
    assert images_label((old,), new) == "k8s-hub:4.1.0 → k8s-hub:9.9.9-nope"
    assert images_label((), new) == "(none) → k8s-hub:9.9.9-nope"
    assert images_label((), "") == "-"


def test_a_moment_says_when_and_how_long_ago() -> None:
    assert moment(1_767_225_600.0, 1_767_225_600.0 + 180) == "2026-01-01 00:00:00 UTC (3m ago)"
    assert moment(None, 0.0) == "-"


def test_repo_labels() -> None:
    assert repo_label("https://github.com/binder-examples/requirements") == (
        "binder-examples/requirements"
    )
    assert repo_label("https://gitlab.com/org/repo.git/") == "gitlab.com/org/repo"
    assert repo_label("https://www.github.com/org/repo.git") == "org/repo"
    assert repo_label("https://github.com/") == "https://github.com/"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "-"),
        (0.0, "0 cores"),
        (0.0004, "0 cores"),
        (0.004, "0.004 cores"),
        (0.028, "0.028 cores"),
        (0.25, "0.25 cores"),
        (1.0, "1 core"),
        (1.5, "1.5 cores"),
        (12.34, "12 cores"),
    ],
)
def test_cpu_is_cores_with_the_unit(value: float | None, shown: str) -> None:
    assert cpu(value) == shown
    assert cores(value) == shown.removesuffix(" cores").removesuffix(" core")


def test_the_cli_and_the_console_show_a_session_alike() -> None:
    session = Session(
        "jupyter-a", "binderhub", "a", "https://github.com/org/repo.git", "main", 0.0, "Running",
        cpu=0.028, memory=300 * 2**20,
    )  # fmt: skip
    cli = dict(zip(SESSION_HEADERS, session_row(session, 17 * 60.0), strict=True))
    titles = [column.label for column in SessionsScreen.COLUMNS]
    console = dict(
        zip(titles, [cell.text for cell in console_row(session, None, 17 * 60.0)], strict=True)
    )
    assert cli["REPO"] == console["Repository"] == "org/repo"
    assert cli["CPU"] == console["CPU"] == "0.028 cores"
    assert cli["AGE"] == console["Age"] == "17m"
    assert cli["MEM"] == console["Memory"] == "300Mi"


@pytest.mark.parametrize(
    ("figure", "shown"),
    [
        (rate(None), "-"),
        (rate(830.0), "830/s"),
        (rate(1250.0), "1.2Ki/s"),
        (packet_rate(3100.4), "3,100 pkt/s"),
        (share(0.07), "7%"),
        (share(1.0), "100%"),
    ],
)
def test_rates_and_shares(figure: str, shown: str) -> None:
    assert figure == shown
