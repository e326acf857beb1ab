"""A Kubernetes API server emulator and the object store behind it."""
