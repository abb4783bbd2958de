"""Provides the trading engine: it never imports textual or rich."""
