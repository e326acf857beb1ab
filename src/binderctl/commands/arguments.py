"""Argument types shared by the ops commands: their errors become exit code 2 with a
message saying what is allowed."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from binderctl.parsing import parse_duration, parse_positive_int
from binderctl.services.mapping import STUCK_AFTER_SECONDS


def duration(text: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def whole_number(name: str, low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return parse_positive_int(text, name=name, low=low, high=high)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_stuck_after(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stuck-after",
        type=duration,
        default=int(STUCK_AFTER_SECONDS),
        metavar="D",
        help="a build running longer than D counts as stuck (default 30m)",
    )
