"""The hysteresis, repeat and resolve rules of the tracker (pure: the clock is given)."""

from __future__ import annotations

from binderctl.services.alert_state import AlertTracker, Finding, RuleSettings

DISK = Finding(
    "disk", "disk-pressure", "error", "image filesystem 93% full", "binderctl prune-images"
)
RULE = RuleSettings(for_seconds=60, repeat_seconds=3600)


def rule(_: Finding) -> RuleSettings:
    return RULE


def test_fires_once_after_its_for_duration_and_resolves_once() -> None:
    tracker = AlertTracker("m")
    assert tracker.step(0, [DISK], rule) == []
    assert tracker.step(59, [DISK], rule) == []
    fired = tracker.step(60, [DISK], rule)
    assert [(n.state, n.kind, n.since) for n in fired] == [("firing", "disk-pressure", 0)]
    assert tracker.step(61, [DISK], rule) == []
    resolved = tracker.step(100, [], rule)
    assert [(n.state, n.since, n.command) for n in resolved] == [
        ("resolved", 0, "binderctl prune-images")
    ]
    assert tracker.step(200, [], rule) == []


def test_a_flap_shorter_than_for_sends_nothing() -> None:
    tracker = AlertTracker("m")
    for start in (0, 100, 200):
        assert tracker.step(start, [DISK], rule) == []
        assert tracker.step(start + 59, [DISK], rule) == []
        assert tracker.step(start + 60.5, [], rule) == []


def test_reminders_while_it_holds_and_distinct_ids() -> None:
    tracker = AlertTracker("m")
    tracker.step(0, [DISK], rule)
    first = tracker.step(60, [DISK], rule)
    again = tracker.step(60 + 3600, [DISK], rule)
    assert [n.repeat for n in first + again] == [0, 1]
    assert len({n.id for n in first + again}) == 2


def test_disabled_rules_are_not_tracked() -> None:
    tracker = AlertTracker("m")
    off = RuleSettings(60, 3600, enabled=False)
    assert tracker.step(0, [DISK], lambda _: off) == []
    assert tracker.step(100, [DISK], lambda _: off) == []
    assert tracker.tracks == {}


def test_state_survives_a_round_trip_through_json() -> None:
    tracker = AlertTracker("m")
    tracker.step(0, [DISK], rule)
    tracker.step(60, [DISK], rule)
    restored = AlertTracker.from_json(tracker.to_json())
    assert restored.step(61, [DISK], rule) == []  # no second "firing" after a restart
    assert [n.state for n in restored.step(62, [], rule)] == ["resolved"]
