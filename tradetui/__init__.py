"""tradetui: a terminal trading bot for crypto spot markets."""
