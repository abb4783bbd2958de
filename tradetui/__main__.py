"""Lets `python -m tradetui` run the command line."""

from tradetui.cli import main

raise SystemExit(main())
