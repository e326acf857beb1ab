"""Screens never import the app (it imports them): they read the console through
``screens.console.Console`` and ask for things with ``screens.messages``."""

from __future__ import annotations

import ast
from pathlib import Path

import binderctl.screens

SCREENS = Path(binderctl.screens.__file__).parent


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_screen_imports_the_app() -> None:
    modules = sorted(SCREENS.glob("*.py"))
    assert len(modules) > 10
    for path in modules:
        assert "binderctl.app" not in imported(path), path.name
