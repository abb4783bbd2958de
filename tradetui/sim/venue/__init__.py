"""Provides the simulated venue: books, matching, accounts and orders."""
