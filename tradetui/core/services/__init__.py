"""Provides the engine's services: market signals, trends, listings and copy trading."""
