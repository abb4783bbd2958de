"""Provides the modal screens of the terminal UI."""
