"""Provides the simulator's Kraken WebSocket v2 API."""
