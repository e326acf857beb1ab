"""Properties of the value parsers (parsing.py): any text gives a valid value or one
ValueError that says what is allowed, never another exception; valid values built
independently of the parser parse to what they mean."""

from __future__ import annotations

import ipaddress
import re
import string
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from binderctl import parsing
from tests.fuzz.fuzzkit import budget

# Text that looks almost right is where parsers break: mix the parser's own alphabet
# with digits from other scripts, whitespace, controls and everything else.
NEAR = st.sampled_from(
    [*"0123456789smhdwSMHDW:/.-_ ", "\u00b2", "\u0661", "\u0663", "\n", "\x1b", "\udcff"]
)


def near_text(max_size: int = 24) -> st.SearchStrategy[str]:
    return st.one_of(st.text(max_size=max_size), st.lists(NEAR, max_size=max_size).map("".join))


ANY_TEXT = st.one_of(near_text(), st.text(max_size=300), st.just("9" * 5000))


def rejects(parser, text: str, *words: str) -> None:  # type: ignore[no-untyped-def]
    """``parser(text)`` raises ValueError naming ``words`` (and only ValueError)."""
    with pytest.raises(ValueError) as info:
        parser(text)
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message
    for word in words:
        assert word in message


# -- durations ---------------------------------------------------------------------------
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@budget(ci=200)
@given(ANY_TEXT)
def test_any_text_is_a_duration_or_a_clear_error(text: str) -> None:
    value = text.strip().lower()
    plain = re.fullmatch(r"[0-9]+", value)
    units = re.fullmatch(r"(?:[0-9]+[smhdw])+", value)
    if not (plain or units) or len(value) > parsing.MAX_DURATION_CHARS:
        rejects(parsing.parse_duration, text, "duration")
        return
    parts = [(value, "s")] if plain else re.findall(r"([0-9]+)([smhdw])", value)
    expected = sum(int(n) * UNITS[u] for n, u in parts)
    if expected > parsing.MAX_DURATION_SECONDS:
        rejects(parsing.parse_duration, text, "too long")
    else:
        assert parsing.parse_duration(text) == expected


@budget(ci=150)
@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from("smhdwSMHDW")), min_size=1),
    st.sampled_from(["", " ", "\t"]),
)
def test_built_durations_mean_what_they_say(parts: list[tuple[int, str]], pad: str) -> None:
    text = pad + "".join(f"{n}{u}" for n, u in parts) + pad
    seconds = sum(n * UNITS[u.lower()] for n, u in parts)
    if len(text.strip()) > parsing.MAX_DURATION_CHARS or seconds > parsing.MAX_DURATION_SECONDS:
        rejects(parsing.parse_duration, text, "too long")
    else:
        assert parsing.parse_duration(text) == seconds


# -- CIDRs -------------------------------------------------------------------------------
@budget(ci=200)
@given(st.one_of(ANY_TEXT, st.from_regex(r"[0-9a-f:.]{1,40}/[0-9]{1,4}", fullmatch=True)))
def test_any_text_is_a_cidr_or_a_clear_error(text: str) -> None:
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        network = None
    if network is None or "/" not in text:
        rejects(parsing.parse_cidr, text, "CIDR")
    else:
        assert parsing.parse_cidr(text) == str(network)


@budget(ci=150)
@given(
    st.one_of(
        st.ip_addresses(v=4).map(lambda a: (a, 32)), st.ip_addresses(v=6).map(lambda a: (a, 128))
    ).flatmap(lambda pair: st.tuples(st.just(pair[0]), st.integers(0, pair[1])))
)
def test_built_cidrs_normalise_and_are_stable(pair: tuple[ipaddress._BaseAddress, int]) -> None:
    address, prefix = pair
    result = parsing.parse_cidr(f"{address}/{prefix}")
    network = ipaddress.ip_network(result)
    assert network.prefixlen == prefix and address in network
    assert parsing.parse_cidr(result) == result


def _split(network: ipaddress._BaseNetwork, draw: st.DrawFn, depth: int) -> list[str]:
    """``network`` cut into random pieces that together cover exactly it."""
    if depth == 0 or network.prefixlen >= network.max_prefixlen or not draw(st.booleans()):
        return [str(network)]
    low, high = network.subnets()
    return _split(low, draw, depth - 1) + _split(high, draw, depth - 1)


@st.composite
def world_pieces(draw: st.DrawFn) -> list[str]:
    world = ipaddress.ip_network(draw(st.sampled_from(["0.0.0.0/0", "::/0"])))
    return draw(st.permutations(_split(world, draw, depth=6)))


@budget(ci=150)
@given(world_pieces(), st.data())
def test_the_world_is_the_world_however_it_is_cut(pieces: list[str], data: st.DataObject) -> None:
    others = data.draw(st.lists(st.sampled_from(["10.0.0.0/8", "2001:db8::/32"]), max_size=2))
    assert parsing.covers_world(pieces + others)
    if len(pieces) > 1:
        missing = data.draw(st.integers(0, len(pieces) - 1))
        assert not parsing.covers_world(pieces[:missing] + pieces[missing + 1 :] + others)


def test_world_examples() -> None:
    assert parsing.covers_world(["0.0.0.0/0"]) and parsing.covers_world(["::/0"])
    assert parsing.covers_world(["0.0.0.0/1", "128.0.0.0/1"])
    assert parsing.covers_world(["::/1", "8000::/1", "10.0.0.0/8"])
    assert not parsing.covers_world(["0.0.0.0/1", "::/1"])
    assert not parsing.covers_world(["203.0.113.0/24"])


# -- quotas ------------------------------------------------------------------------------
@budget(ci=200)
@given(st.one_of(ANY_TEXT, st.integers(), st.booleans(), st.none()))
def test_any_quota_is_valid_or_a_clear_error(value: str | int | bool | None) -> None:
    if isinstance(value, bool):
        rejects(parsing.parse_quota, value, "boolean")  # type: ignore[arg-type]
        return
    if value is None:
        assert parsing.parse_quota(value) is None
        return
    raw = value.strip().lower() if isinstance(value, str) else None
    if raw in ("none", "unlimited"):
        assert parsing.parse_quota(value) is None
    elif raw is not None and not re.fullmatch("[0-9]+", raw):
        rejects(parsing.parse_quota, value, "not a quota")
    elif raw is not None and len(raw.lstrip("0")) > 6:  # more digits than int() takes
        rejects(parsing.parse_quota, value, "out of range")
    elif 0 <= int(raw if raw is not None else value) <= parsing.MAX_QUOTA:
        assert parsing.parse_quota(value) == int(raw if raw is not None else value)
    else:
        rejects(parsing.parse_quota, value, "out of range")


# -- member names and hostnames ----------------------------------------------------------
def is_member_name(text: str) -> bool:
    allowed = set(string.ascii_lowercase + string.digits + "-")
    return (
        1 <= len(text) <= 63
        and set(text) <= allowed
        and text[0] in string.ascii_lowercase
        and not text.endswith("-")
    )


NAMEISH = st.text(alphabet=string.ascii_lowercase + string.digits + "-A_.\n é", max_size=70)


@budget(ci=200)
@given(st.one_of(ANY_TEXT, NAMEISH))
def test_member_names(text: str) -> None:
    if is_member_name(text):
        assert parsing.parse_member_name(text) == text
    else:
        rejects(parsing.parse_member_name, text, "member name")


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@budget(ci=200)
@given(st.one_of(ANY_TEXT, NAMEISH, st.lists(LABEL, min_size=1, max_size=5).map(".".join)))
def test_hostnames(text: str) -> None:
    try:
        value = parsing.parse_hostname(text)
    except ValueError as exc:
        assert "hostname" in str(exc)
        return
    labels = value.split(".")
    assert len(labels) >= 2 and len(value) <= 253 and value.isascii()
    assert all(is_member_name("a" + label) for label in labels)  # the same alphabet
    assert parsing.parse_hostname(value) == value


@budget(ci=100)
@given(st.lists(LABEL, min_size=2, max_size=5), st.booleans())
def test_built_hostnames_parse_to_themselves(labels: list[str], upper: bool) -> None:
    host = ".".join(labels)
    assume(len(host) <= 253)
    assert parsing.parse_hostname((host.upper() if upper else host) + ".") == host


# -- sizes and keys ----------------------------------------------------------------------
FACTORS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
FACTORS |= {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


@budget(ci=200)
@given(ANY_TEXT)
def test_any_size_is_bytes_or_a_clear_error(text: str) -> None:
    try:
        value = parsing.parse_size(text)
    except ValueError as exc:
        assert "size" in str(exc)
        return
    assert isinstance(value, int) and value >= 0


@budget(ci=100)
@given(st.integers(0, 10**6), st.sampled_from(sorted(FACTORS)))
def test_built_sizes(number: int, unit: str) -> None:
    assert parsing.parse_size(f"{number}{unit}") == number * FACTORS[unit]


@budget(ci=200)
@given(
    st.one_of(
        ANY_TEXT,
        st.tuples(
            st.sampled_from(["ssh-ed25519", "ssh-rsa", "x"]),
            st.one_of(
                st.binary(max_size=80).map(lambda b: __import__("base64").b64encode(b).decode()),
                st.text(max_size=40),
            ),
        ).map(" ".join),
    )
)
def test_any_public_key_line_has_a_fingerprint_or_a_clear_error(text: str) -> None:
    try:
        fingerprint = parsing.ssh_fingerprint(text)
    except ValueError:
        return
    assert re.fullmatch(r"([0-9a-f]{2}:){15}[0-9a-f]{2}", fingerprint)


@budget(ci=200)
@given(st.one_of(ANY_TEXT, st.sampled_from(["~", "~/x", "~binderctl-no-such-user/x", "a\x00"])))
def test_any_path_expands_or_is_a_clear_error(text: str) -> None:
    try:
        path = parsing.parse_path(text)
    except ValueError as exc:
        assert "path" in str(exc) or "no such user" in str(exc)
        assert text == "" or "\x00" in text or text.startswith("~")
        return
    assert path == Path(text) or text.startswith("~")
