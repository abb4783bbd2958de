"""Provides EngineError, in a module of its own so the console can catch it before the engine's
modules are imported."""

from __future__ import annotations


class EngineError(Exception):
    """Something the operator must fix or know, in one line (bad config, no credentials, no venue)."""
