"""Console screens (Textual), one module each; keys and screens are listed in keymap."""
