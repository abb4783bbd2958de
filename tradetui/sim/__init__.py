"""Provides a Kraken-protocol exchange simulator (REST + WebSocket v2) on 127.0.0.1."""
