"""With default settings every listener a headless engine opens is loopback-only, and what it
leaves in its data dir is the owner's alone (files 0600, directories 0700)."""

from __future__ import annotations

import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

TCP_LISTEN = "0A"


def listening_addresses(pid: int) -> list[str]:
    """The local addresses of ``pid``'s listening TCP sockets, from /proc (no psutil here)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed since the listing
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    addresses = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == TCP_LISTEN and inode in inodes:
                addresses.append(_address(local, family))
    return addresses


def _address(hex_address: str, family: int) -> str:
    host_hex, port_hex = hex_address.split(":")
    # /proc prints the address as 32-bit words in host byte order.
    words = [int(host_hex[i : i + 8], 16) for i in range(0, len(host_hex), 8)]
    packed = struct.pack(f"={len(words)}I", *words)
    return f"{socket.inet_ntop(family, packed)}:{int(port_hex, 16)}"


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="needs Linux /proc")
def test_every_listener_binds_loopback_and_data_dir_files_are_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "d"
    process = subprocess.Popen(
        [sys.executable, "-m", "tradetui", "--no-ui", "--data-dir", str(data_dir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # Defaults, but a free port for /health (conftest sets it) and a loose umask to beat.
        env={**os.environ, "TRADETUI_OPS__HTTP_ENABLED": "true"},
        preexec_fn=lambda: os.umask(0o022),
    )
    try:
        deadline = time.monotonic() + 30
        listeners: list[str] = []
        # The embedded simulator and /health + /metrics; the control socket comes last.
        while len(listeners) < 2 or not (data_dir / "control.sock").exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, f"listeners so far: {listeners}"
            time.sleep(0.2)
            listeners = listening_addresses(process.pid)
        time.sleep(1)  # a listener opened a little later is checked too
        listeners = listening_addresses(process.pid)
        for address in listeners:
            host = address.rsplit(":", 1)[0]
            assert host in ("127.0.0.1", "::1"), f"{address} is not loopback ({listeners})"
        control = (data_dir / "control.sock").stat()
        assert stat.S_ISSOCK(control.st_mode) and stat.S_IMODE(control.st_mode) == 0o600
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err

    entries = [data_dir, *data_dir.rglob("*")]
    names = {p.name for p in entries}
    assert {"tradetui.db", "tradetui.jsonl", "logs"} <= names, names
    for path in entries:
        mode = stat.S_IMODE(path.stat().st_mode)
        expected = 0o700 if path.is_dir() else 0o600
        assert mode == expected, f"{path.relative_to(tmp_path)} is {mode:o}, not {expected:o}"
