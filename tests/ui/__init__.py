"""UI tests: Pilot, themes and SVG snapshots."""
