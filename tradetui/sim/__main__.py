"""Lets `python -m tradetui.sim` run the standalone simulator."""

from __future__ import annotations

import sys

from tradetui.sim.cli import main

sys.exit(main())
