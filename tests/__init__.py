"""binderctl's tests: one folder per area, and the kit they share (tests/kit)."""
