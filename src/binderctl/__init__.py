"""binderctl: operations console for a single-node mybinder.org federation member."""

__version__ = "0.1.0"
