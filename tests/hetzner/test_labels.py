"""Label maps and label selectors as the Hetzner API reads them (pure functions)."""

from __future__ import annotations

import pytest

from binderctl.demo.hetzner.labels import label_problems, parse_selector

LABELS = {"managed-by": "binderctl", "binderctl/member": "demo", "env": "prod", "empty": ""}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("managed-by=binderctl", True),
        ("managed-by==binderctl", True),
        ("managed-by=other", False),
        ("managed-by!=other", True),
        ("managed-by!=binderctl", False),
        ("missing!=x", True),
        ("binderctl/member=demo,managed-by=binderctl", True),
        ("binderctl/member=demo,managed-by=other", False),
        ("env in (prod,staging)", True),
        ("env in (staging, test)", False),
        ("env notin (staging,test)", True),
        ("env notin (prod)", False),
        ("missing notin (a,b)", True),
        ("env", True),
        ("missing", False),
        ("!missing", True),
        ("!env", False),
        ("empty=", True),
        ("env in (prod,staging),!missing,binderctl/member", True),
    ],
)
def test_selector_matches_like_the_api(selector: str, matches: bool) -> None:
    assert parse_selector(selector)(LABELS) is matches


@pytest.mark.parametrize(
    "selector", ["a=b=c", "env in prod", "=x", "a,,b", "bad key=x", "n>1", "-bad=x"]
)
def test_bad_selectors_are_refused(selector: str) -> None:
    with pytest.raises(ValueError):
        parse_selector(selector)


def test_label_maps_are_checked() -> None:
    assert label_problems({"binderctl/member": "demo", "a.b_c-d": "x.y"}) == []
    assert label_problems({"-bad": "x"}) == ["invalid label key '-bad'"]
    assert label_problems({"key": "not ok!"}) == ["invalid value for label 'key'"]
    assert label_problems(["not", "a", "map"]) != []
