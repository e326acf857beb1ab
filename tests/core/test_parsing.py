import pytest

from binderctl import formatting, parsing


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400), ("1h30m", 5400)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parsing.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "10x", "1h 2m", "-5m", "9999d", "h1"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parsing.parse_duration(text)


def test_cidrs() -> None:
    assert parsing.parse_cidr("10.1.2.3/8") == "10.0.0.0/8"
    assert parsing.parse_cidr("2001:db8::1/32") == "2001:db8::/32"
    for bad in ("10.0.0.0/33", "10.0.0.0", "300.0.0.0/8", "x/1"):
        with pytest.raises(ValueError, match="CIDR"):
            parsing.parse_cidr(bad)


def test_quota() -> None:
    assert parsing.parse_quota("0") == 0
    assert parsing.parse_quota("none") is None
    assert parsing.parse_quota(250) == 250
    for bad in ("-1", "1.5", "lots", True):
        with pytest.raises(ValueError):
            parsing.parse_quota(bad)  # type: ignore[arg-type]


def test_names_and_hosts() -> None:
    assert parsing.parse_member_name("hetzner-2") == "hetzner-2"
    assert parsing.parse_hostname("Hetzner.MyBinder.org.") == "hetzner.mybinder.org"
    for bad in ("2abc", "a_b", "-a", "a" * 64, ""):
        with pytest.raises(ValueError, match="member name"):
            parsing.parse_member_name(bad)
    for bad in ("localhost", "a..b", "-x.org", "x" * 64 + ".org"):
        with pytest.raises(ValueError, match="hostname"):
            parsing.parse_hostname(bad)


def test_human_figures() -> None:
    assert formatting.age(59) == "59s"
    assert formatting.age(180) == "3m"
    assert formatting.age(3 * 86400) == "3d"
    assert formatting.size(1288490188) == "1.2Gi"
    assert formatting.size(512) == "512"
    assert formatting.inert("\x1b[31mred\x1b[0m") == "?[31mred?[0m"
