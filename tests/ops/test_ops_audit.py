"""The audit log file: private from creation, one line per record, torn lines skipped."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from binderctl.commands.audit_cmd import detail
from binderctl.services import audit


def test_append_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BINDERCTL_HOME", str(tmp_path))
    first = audit.append("m", "drain", "member m", {"wait": True, "force_after": None}, "ok")
    path = audit.audit_path("m")
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    with path.open("a") as handle:
        handle.write('{"time": "2026-01-01T00:00:00+00:00", "user": "x", "memb')  # a torn write
    second = audit.append("m", "restart", "hub", {}, "failed", "boom \x1b[31m")
    records = audit.read("m")
    assert [(r.action, r.outcome) for r in records] == [("drain", "ok"), ("restart", "failed")]
    assert records[0].parameters == {"wait": True, "force_after": None}
    assert records[1].detail == "boom \x1b[31m" and records[1].user == first.user
    assert audit.read("m", since=second.time + 1) == []
    assert len(audit.read("m", since=time.time() - 60)) == 2
    assert audit.read("other") == []


def test_a_selection_is_one_record_naming_each_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BINDERCTL_HOME", str(tmp_path))
    path = audit.audit_path("m")
    path.parent.mkdir(parents=True)
    # a record from before targets existed
    path.write_text(
        '{"time":"2026-01-01T00:00:00.000+00:00","user":"x","member":"m","action":"restart",'
        '"target":"hub","parameters":{},"outcome":"ok","detail":"started"}\n'
    )
    targets = {"jupyter-a": "deleted", "jupyter-b": "already gone", "jupyter-c": "deleted"}
    audit.append(
        "m", "kill-session", "3 sessions", {}, "ok", "killed 2 session(s)", targets=targets
    )
    old, new = audit.read("m")
    assert old.targets == {} and old.to_json()["targets"] == {}
    assert new.targets == targets and new.to_json()["targets"] == targets
    assert detail(old) == "started"
    assert detail(new) == (
        "killed 2 session(s) (deleted: jupyter-a, jupyter-c; already gone: jupyter-b)"
    )
