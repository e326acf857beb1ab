"""Controllers of the emulated control plane (see plane.py)."""
