"""Provides the replay feed `md_ingest` measures against: WS v2 frames recorded from the simulator
once, then sent to each client as fast as it reads them.

The feed runs in a child process (the machine has two cores: the feed gets one, the client under
test the other) next to an idle simulator, which answers the REST calls a client starts with
(markets) and never ticks. The recorded frames are framed once into WebSocket bytes and written
in 64 KiB chunks, each followed by a drain: the client's socket buffers stay full, so the client
always has a frame waiting, and the feed spends its time waiting on the client, not framing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import multiprocessing
import queue
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.queues import Queue
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradetui.sim.server import SimServer

RECORD_FRAMES = 20_000
"""Frames recorded from the simulator: the replay repeats them, snapshots first, in a loop."""
RECORD_TICK_S = 0.002
"""Wall time between two recorded simulator ticks (the market moves as it does at 2 ms ticks)."""
RECORD_TIMEOUT_S = 60.0
CHUNK_BYTES = 64 * 1024
SUBSCRIBE_TIMEOUT_S = 30.0
START_TIMEOUT_S = 120.0
REPORT_TIMEOUT_S = 10.0
CHANNELS = ("ticker", "book", "trade")
"""What the engine's market data subscribes to for every symbol, and so what is recorded."""
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass(frozen=True)
class ReplayInfo:
    """Where the replay and its simulator listen."""

    ws_url: str
    """The replay feed, `ws://127.0.0.1:<port>/v2`."""
    rest_url: str
    """The idle simulator's REST base URL (markets come from here)."""
    sim_ws_private_url: str
    frames_per_cycle: int
    """Recorded frames the feed repeats, snapshots first."""


@dataclass(frozen=True)
class FeedReport:
    """What the feed sent one client, from its first replayed frame to the client's goodbye."""

    frames: int
    cpu_s: float
    """The feed process's CPU time (user + system) meanwhile: the work of sending."""


def ws_frame(text: str) -> bytes:
    """One unmasked, final WebSocket text frame (what a server sends)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


def chunked(frames: Sequence[str], chunk_bytes: int = CHUNK_BYTES) -> list[tuple[bytes, int]]:
    """The frames as WebSocket bytes in chunks of about ``chunk_bytes``, cut between frames;
    each chunk with how many frames it holds."""
    chunks: list[tuple[bytes, int]] = []
    pending: list[bytes] = []
    size = 0
    for text in frames:
        frame = ws_frame(text)
        pending.append(frame)
        size += len(frame)
        if size >= chunk_bytes:
            chunks.append((b"".join(pending), len(pending)))
            pending, size = [], 0
    if pending:
        chunks.append((b"".join(pending), len(pending)))
    return chunks


async def record(ws_url: str, server: SimServer, symbols: Sequence[str], frames: int) -> list[str]:
    """Subscribe to every channel of ``symbols`` on the simulator, tick it, and keep the market
    data frames (snapshots, updates, heartbeats) in the order they arrived."""
    import aiohttp

    recorded: list[str] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(ws_url, max_msg_size=1 << 24) as ws,
    ):
        for req_id, channel in enumerate(CHANNELS, start=1):
            params = {"channel": channel, "symbol": list(symbols)}
            await ws.send_str(
                json.dumps({"method": "subscribe", "params": params, "req_id": req_id})
            )

        async def read() -> None:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                # Acks and the status greeting are the replay's to send, not the cycle's.
                text = message.data
                if text.startswith('{"channel": "') and not text.startswith('{"channel": "status"'):
                    recorded.append(text)

        reader = asyncio.create_task(read())
        deadline = time.monotonic() + RECORD_TIMEOUT_S
        try:
            while len(recorded) < frames and time.monotonic() < deadline and not reader.done():
                server.step()
                await asyncio.sleep(RECORD_TICK_S)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
    if len(recorded) < frames:
        raise RuntimeError(f"recorded {len(recorded)} of {frames} frames from the simulator")
    return recorded[:frames]


class ReplayFeed:
    """The WebSocket server. Per connection: the handshake and Kraken's greeting, an ack for each
    subscription, then (once every channel of every symbol is subscribed) the recorded cycle,
    over and over, with pongs in between, until the client goes away."""

    def __init__(
        self, chunks: list[tuple[bytes, int]], symbols: Sequence[str], reports: Any
    ) -> None:
        self._chunks = chunks
        self._expected = {(channel, symbol) for channel in CHANNELS for symbol in symbols}
        self._reports = reports

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await self._handshake(reader, writer):
                await self._session(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _handshake(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        headers = {}
        for line in request.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        key = headers.get("sec-websocket-key")
        if key is None:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        # The WebSocket handshake's fixed digest (RFC 6455), not a security measure.
        digest = hashlib.sha1((key + _WS_GUID).encode(), usedforsecurity=False).digest()
        # No Sec-WebSocket-Extensions in the answer: frames go uncompressed, as on loopback the
        # deflate would only burn CPU at both ends.
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + base64.b64encode(digest) + b"\r\n\r\n"
        )
        status = {"version": "2.0.10", "system": "online", "api_version": "v2"}
        writer.write(
            ws_frame(json.dumps({"channel": "status", "type": "update", "data": [status]}))
        )
        await writer.drain()
        return True

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        subscribed: set[tuple[str, str]] = set()
        replies: list[bytes] = []
        all_subscribed = asyncio.Event()

        async def answer() -> None:
            """Acknowledge subscriptions and answer pings, until the client closes."""
            while True:
                opcode, payload = await _read_frame(reader)
                if opcode == 0x8:  # close
                    return
                if opcode != 0x1:
                    continue
                try:
                    message = json.loads(payload)
                except ValueError:
                    continue
                reply = _reply(message, subscribed)
                if reply is not None:
                    replies.append(ws_frame(json.dumps(reply)))
                if not all_subscribed.is_set():
                    writer.write(b"".join(replies))
                    replies.clear()
                    await writer.drain()
                    if self._expected <= subscribed:
                        all_subscribed.set()

        answering = asyncio.create_task(answer())
        waiting = asyncio.create_task(all_subscribed.wait())
        await asyncio.wait(
            {answering, waiting}, timeout=SUBSCRIBE_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        waiting.cancel()
        if not all_subscribed.is_set():
            answering.cancel()
            await asyncio.gather(answering, waiting, return_exceptions=True)
            return
        sent = _Sent()
        sending = asyncio.create_task(self._send_cycles(writer, replies, sent))
        await asyncio.wait({answering, sending}, return_when=asyncio.FIRST_COMPLETED)
        report = FeedReport(sent.frames, time.process_time() - sent.cpu_started)
        for task in (answering, sending):
            task.cancel()
        await asyncio.gather(answering, sending, waiting, return_exceptions=True)
        self._reports.put(report)

    async def _send_cycles(
        self, writer: asyncio.StreamWriter, replies: list[bytes], sent: _Sent
    ) -> None:
        while True:
            for chunk, count in self._chunks:
                if replies:  # pongs go out between two chunks, on a frame boundary
                    writer.write(b"".join(replies))
                    replies.clear()
                writer.write(chunk)
                await writer.drain()
                sent.frames += count


class _Sent:
    """Frames handed to the socket since a replay began, and the CPU clock at its start."""

    def __init__(self) -> None:
        self.frames = 0
        self.cpu_started = time.process_time()


async def _read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One client frame: its opcode and unmasked payload (clients mask; fragments not needed)."""
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    mask = await reader.readexactly(4) if second & 0x80 else b""
    payload = await reader.readexactly(size)
    if mask:
        payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return first & 0x0F, payload


def _reply(message: Any, subscribed: set[tuple[str, str]]) -> dict[str, Any] | None:
    """Kraken's answer to a subscribe (noting what it covers) or a ping; None to anything else."""
    if not isinstance(message, dict):
        return None
    method, req_id = message.get("method"), message.get("req_id")
    if method == "ping":
        return {"method": "pong", "req_id": req_id}
    if method != "subscribe":
        return None
    params = message.get("params") or {}
    channel = str(params.get("channel"))
    symbols = [str(symbol) for symbol in params.get("symbol") or []]
    subscribed.update((channel, symbol) for symbol in symbols)
    result = {"channel": channel, "symbol": symbols[0] if symbols else "", "snapshot": True}
    return {"method": "subscribe", "req_id": req_id, "result": result, "success": True}


def _serve(
    symbols: list[str], frames: int, out: Queue[Any], reports: Queue[Any], stop: Any
) -> None:
    """Child process: record the cycle, then serve the replay until `stop` is set."""
    from tradetui.sim.server import SimServer

    async def main() -> None:
        # Never ticks by itself: the recording steps it, the replay needs only its REST API.
        server = SimServer(host="127.0.0.1", port=0, seed=7, tick_interval=1e9)
        sim = await server.start()
        try:
            cycle = await record(sim.ws_public, server, symbols, frames)
            feed = ReplayFeed(chunked(cycle), symbols, reports)
            listener = await asyncio.start_server(feed.serve, "127.0.0.1", 0)
            port = listener.sockets[0].getsockname()[1]
            out.put(ReplayInfo(f"ws://127.0.0.1:{port}/v2", sim.rest, sim.ws_private, len(cycle)))
            async with listener:
                await asyncio.to_thread(stop.wait)
        finally:
            await server.stop()

    asyncio.run(main())


class ChildReplay:
    """The replay feed in a spawned child process, stopped and joined on exit."""

    def __init__(self, symbols: Sequence[str], frames: int = RECORD_FRAMES) -> None:
        context = multiprocessing.get_context("spawn")
        self._out: Queue[Any] = context.Queue()
        self._reports: Queue[Any] = context.Queue()
        self._stop = context.Event()
        self._process = context.Process(
            target=_serve,
            args=(list(symbols), frames, self._out, self._reports, self._stop),
            daemon=True,
        )

    def __enter__(self) -> ReplayInfo:
        """Start the child; returns once the cycle is recorded and the feed listens."""
        self._process.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                info: ReplayInfo = self._out.get(timeout=0.2)
                return info
            except queue.Empty:
                if not self._process.is_alive():  # fail fast when the child died
                    break
        self.__exit__()
        raise RuntimeError(f"the replay feed did not start (exit code {self._process.exitcode})")

    def report(self) -> FeedReport:
        """What the feed sent the client that disconnected last."""
        try:
            report: FeedReport = self._reports.get(timeout=REPORT_TIMEOUT_S)
        except queue.Empty:
            raise RuntimeError("the replay feed reported nothing for its last client") from None
        return report

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
