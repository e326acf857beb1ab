"""binderctl's benchmark suite: ``python -m benchmarks --help``; results in RESULTS.md.

Every figure is measured side by side with a baseline in the same run and reported as a
ratio to it (absolute times on a shared machine are noise).
"""
