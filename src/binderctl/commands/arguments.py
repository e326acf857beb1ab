"""Argument types shared by the ops commands: their errors become exit code 2 with a
message saying what is allowed."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from binderctl.parsing import argument_type, parse_positive_int
from binderctl.services import catalogue

duration = catalogue.duration  # one object: tests find the duration options by it


def whole_number(name: str, low: int, high: int) -> Callable[[str], int]:
    return argument_type(lambda text: parse_positive_int(text, name=name, low=low, high=high))


def add_stuck_after(parser: argparse.ArgumentParser) -> None:
    catalogue.add_option(parser, catalogue.STUCK_AFTER)
