"""Provides the panes of the terminal UI, one widget per module."""
