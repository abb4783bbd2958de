"""Takes a headless-Chromium screenshot of `tradetui serve` (the TUI in a browser tab).

Run from the repository root:

    uv run python scripts/serve_screenshot.py            # writes docs/images/serve.png
    uv run python scripts/serve_screenshot.py --out x.png --settle-s 20

Needs Chromium at /usr/bin/chromium (Debian: `apt-get install -y chromium`; `--chromium PATH`
for another) and nothing else: it talks to Chromium over the DevTools protocol with aiohttp, which
tradetui already depends on. Not run in CI, which has no Chromium.

What it does: starts `tradetui serve` on a free 127.0.0.1 port with a temporary data dir (paper
trading on the embedded simulator), opens the page in headless Chromium, waits until the tab's
terminal shows its first bytes and the engine has started, lets the panes fill for --settle-s
seconds, saves the screenshot, then closes Chromium and stops the server (which stops the tab's
app and its engine cleanly). Plain `chromium --screenshot` cannot do this: it shoots as soon as
the page has loaded, before the websocket has started the app, and its --virtual-time-budget
runs the page's timers on a fake clock that the app on the other end of the websocket ignores.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import signal
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from tradetui.core.instance_lock import InstanceLock, InstanceLockError

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",  # Chromium picks a port and writes it to DevToolsActivePort
)
STARTUP_TIMEOUT_S = 60.0

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def wait_for(what: str, check: Callable[[], Awaitable[T]]) -> T:
    """Poll ``check`` until it returns something truthy; give up after STARTUP_TIMEOUT_S."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STARTUP_TIMEOUT_S
    while True:
        if result := await check():
            print(f"serve_screenshot: {what}", flush=True)
            return result
        if loop.time() > deadline:
            raise SystemExit(f"serve_screenshot: gave up waiting until {what}")
        await asyncio.sleep(0.2)


class DevTools:
    """The smallest DevTools-protocol client that can navigate, evaluate and take a screenshot."""

    def __init__(self, page_socket: aiohttp.ClientWebSocketResponse) -> None:
        self.page_socket = page_socket
        self.call_ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.call_ids)
        await self.page_socket.send_json({"id": call_id, "method": method, "params": params})
        while True:
            reply = await self.page_socket.receive_json()
            if reply.get("id") == call_id:  # anything else is an event nobody subscribed to
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    async def evaluate(self, expression: str) -> Any:
        reply = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return reply["result"].get("value")


async def engine_gone(data_dir: Path) -> bool:
    """True once no engine holds the data dir's lock, so the temporary dir can go."""
    lock = InstanceLock(data_dir)
    try:
        lock.acquire()
    except InstanceLockError:
        return False
    except FileNotFoundError:
        return True  # no tab ever made the data dir
    lock.release()
    return True


async def screenshot_page(args: argparse.Namespace, url: str, work_dir: Path) -> bytes:
    """Open ``url`` in headless Chromium, wait for the TUI to run, return a PNG of the page."""
    data_dir = work_dir / "data"
    profile = work_dir / "chromium"
    browser = await asyncio.create_subprocess_exec(
        args.chromium,
        *CHROMIUM_FLAGS,
        f"--window-size={args.width},{args.height}",
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as http:

            async def devtools_port() -> str:
                active = profile / "DevToolsActivePort"
                return active.read_text().split("\n")[0] if active.exists() else ""

            port = await wait_for("chromium started", devtools_port)
            async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json()
            page = next(target for target in targets if target["type"] == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as socket_:
                devtools = DevTools(socket_)
                # --window-size includes the (invisible) browser frame; the page gets exactly this.
                await devtools.call(
                    "Emulation.setDeviceMetricsOverride",
                    width=args.width,
                    height=args.height,
                    deviceScaleFactor=1,
                    mobile=False,
                )
                await devtools.call("Page.navigate", url=url)

                async def terminal_live() -> bool:
                    # textual.js adds this class once the app's first output reaches the page.
                    script = "document.body.classList.contains('-first-byte')"
                    return bool(await devtools.evaluate(script))

                async def engine_started() -> bool:
                    log = data_dir / "logs" / "tradetui.jsonl"
                    return log.exists() and "engine_started" in log.read_text()

                await wait_for("the tab's terminal shows the app", terminal_live)
                await wait_for("the tab's engine started", engine_started)
                await asyncio.sleep(args.settle_s)  # quotes, orders and fills fill the panes
                shot = await devtools.call("Page.captureScreenshot", format="png")
                await devtools.call("Browser.close")
        return base64.b64decode(shot["data"])
    finally:
        if browser.returncode is None:
            try:
                await asyncio.wait_for(browser.wait(), 10)
            except TimeoutError:
                browser.kill()
                await browser.wait()


async def shoot(args: argparse.Namespace, work_dir: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    data_dir = work_dir / "data"
    server_log = work_dir / "serve.log"
    with server_log.open("wb") as sink:
        server = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "tradetui", "serve", "--port", str(port)),
            *("--data-dir", str(data_dir)),
            stdout=sink,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        async with aiohttp.ClientSession() as http:

            async def page_served() -> bool:
                if server.returncode is not None:
                    raise SystemExit(f"tradetui serve exited:\n{server_log.read_text()}")
                try:
                    async with http.get(url) as response:
                        return response.status == 200
                except aiohttp.ClientConnectorError:
                    return False

            await wait_for(f"tradetui serve answers on {url}", page_served)
        png = await screenshot_page(args, url, work_dir)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(png)
        print(f"serve_screenshot: wrote {args.out}", flush=True)
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)  # stops the tab's app and engine, then exits
            await server.wait()
        await wait_for("the engine released the data dir", lambda: engine_gone(data_dir))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/serve.png"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=1600, help="page width in CSS pixels")
    parser.add_argument("--height", type=int, default=1000, help="page height in CSS pixels")
    parser.add_argument(
        "--settle-s", type=float, default=12.0, help="seconds the panes fill before the shot"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tradetui-serve-shot-") as work_dir:
        asyncio.run(shoot(args, Path(work_dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
