"""Headless commands: each module registers its subcommand(s) on the CLI parser."""

from __future__ import annotations

import argparse
import json
import sys
from functools import cached_property
from pathlib import Path
from typing import Any, TypeAlias

from binderctl.config import Config, MemberConfig, load_config
from binderctl.paths import default_config_path, expand

# What register(sub, common) receives; argparse's class is generic only to type checkers.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class Context:
    """What every command needs: the parsed options, the config, the member, the mode."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    def option(self, name: str, default: Any = None) -> Any:
        return getattr(self.args, name, default)

    @property
    def json_output(self) -> bool:
        return bool(self.option("output", "text") == "json")

    @property
    def assume_yes(self) -> bool:
        return bool(self.option("yes", False))

    @property
    def config_path(self) -> Path:
        """``--config PATH``, else BINDERCTL_CONFIG, else the user config dir's file."""
        path = self.option("config")
        return default_config_path() if path is None else expand(path, "--config")

    @cached_property
    def config(self) -> Config:
        return load_config(self.config_path)

    @cached_property
    def member(self) -> MemberConfig:
        return self.config.member(self.option("member"))

    @property
    def readonly(self) -> bool:
        return bool(self.option("readonly", False)) or self.member.readonly

    def emit_json(self, document: Any) -> None:
        json.dump(document, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")

    @staticmethod
    def info(message: str) -> None:
        print(message, file=sys.stderr)


def add_command(
    sub: Subparsers,
    common: argparse.ArgumentParser,
    name: str,
    help_text: str,
    handler: Any,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=help_text, parents=[common]
    )
    parser.set_defaults(handler=handler)
    return parser
