"""The service layer shared by the console and the headless commands (no Textual, no printing)."""
