"""Tests of the Kraken-protocol exchange simulator."""
