"""Provides the operator's side of a running engine: /health, /metrics and the control socket."""
