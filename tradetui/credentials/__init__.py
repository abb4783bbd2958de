"""Provides API credentials: records, the stores that hold them, lookup and the setup steps."""
