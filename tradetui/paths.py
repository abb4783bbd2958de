"""Provides the data directory layout (platformdirs by default, ``--data-dir`` overrides)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class DataPaths:
    """Where tradetui keeps its database, logs and locks."""

    root: Path

    @property
    def database(self) -> Path:
        """The SQLite database."""
        return self.root / "tradetui.db"

    @property
    def logs(self) -> Path:
        """The JSON-lines log directory."""
        return self.root / "logs"

    def ensure(self) -> DataPaths:
        """Create the directories (owner-only) and return self."""
        for directory in (self.root, self.logs):
            directory.mkdir(parents=True, exist_ok=True)
            os.chmod(directory, 0o700)
        return self


def nonce_dir() -> Path:
    """Where nonce high-water marks live: per user, not per data dir, so that every process
    trading with one API key shares one file, whatever data dir each was started with."""
    override = os.environ.get("TRADETUI_NONCE_DIR")
    base = Path(override) if override else Path(platformdirs.user_state_dir("tradetui")) / "nonces"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    return base


def data_paths(data_dir: Path | None = None) -> DataPaths:
    """Return the data paths for ``data_dir``, or the platform's user data dir."""
    root = data_dir if data_dir is not None else Path(platformdirs.user_data_dir("tradetui"))
    return DataPaths(root.expanduser().resolve())
