"""Provides the simulator's Kraken REST API."""
