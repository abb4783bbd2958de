"""Provides order execution: the order manager, the paper broker and the kill-switch procedures."""
