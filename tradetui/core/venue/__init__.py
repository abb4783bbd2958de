"""Provides the venue boundary: the only package that imports ccxt."""
