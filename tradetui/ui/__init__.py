"""Provides tradetui's Textual terminal UI (the engine never imports this package)."""
