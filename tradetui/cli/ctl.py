"""Provides `tradetui ctl`: status and operator commands for a running engine, over its control socket."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from tradetui.cli.options import add_common
from tradetui.core.model import BreakerState, EngineSnapshot
from tradetui.ops.remote import ControlClient
from tradetui.ops.wire import ControlError, from_doc
from tradetui.paths import data_paths
from tradetui.ui import format as fmt

PROG = "tradetui ctl"
SHOWN_PER_LIST = 5
"""Open orders and positions listed by `status` before "+N more"."""

COMMANDS: dict[str, str] = {
    "status": "print a summary of the engine (--json: the whole snapshot)",
    "pause": "ACTIVE -> PAUSED: no new exposure",
    "resume": "PAUSED -> ACTIVE",
    "halt": "kill switch: HALTED, then cancel every open order (needs --yes)",
    "cancel-all": "cancel the engine's open orders; the trading state stays (needs --yes)",
    "flatten": "kill switch, then sell every position at market (needs --yes)",
    "release": "release the kill switch: HALTED -> PAUSED (needs --yes)",
}
DESCRIPTIONS: dict[str, str] = {
    "cancel-all": "Cancel every open order the engine knows (its own, paper and live, and those "
    "it adopted from the venue at start-up), leaving the trading state as it is. Live orders are "
    "canceled one by one, so orders put on the account since start-up by hand or by another "
    "bot stay (`halt` uses the venue's cancel-all, which takes every order on the account). "
    "Strategies keep trading and may place new orders at once: pause or halt first to stop "
    "that. Exits 1 when an order could not be canceled.",
}
"""Longer text for `COMMAND --help` where the one-line help is not enough."""
DESTRUCTIVE: dict[str, str] = {
    "halt": "halt stops all trading and cancels every open order",
    "cancel-all": "cancel-all cancels every open order of the engine",
    "flatten": "flatten halts trading and sells every position at market",
    "release": "release lets the engine trade again once resumed",
}


def _parser() -> argparse.ArgumentParser:
    common = add_common(
        argparse.ArgumentParser(add_help=False),
        config=None,
        data_dir="the running engine's data dir (default: the platform's, as for tradetui)",
        suppress_defaults=True,
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print the raw answer"
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Talk to the engine running on a data dir (headless or in a TUI).",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        description = DESCRIPTIONS.get(name, help_text)
        command = commands.add_parser(
            name, help=help_text, description=description, parents=[common]
        )
        if name in DESTRUCTIVE:
            command.add_argument("--yes", action="store_true", help="confirm the command")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ctl command; exit 0 done, 1 the engine is unreachable, refused or did not finish
    (not flat, orders not canceled), 2 not confirmed."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    data_dir = data_paths(getattr(args, "data_dir", None)).root
    as_json = getattr(args, "json", False)
    if args.command in DESTRUCTIVE and not args.yes:
        print(
            f"{PROG}: {DESTRUCTIVE[args.command]}; add --yes to do it (nothing was sent)",
            file=sys.stderr,
        )
        return 2
    try:
        # Confirmed with --yes (checked above); the engine decides what needs confirming.
        result = asyncio.run(
            _request(data_dir, args.command, confirmed=args.command in DESTRUCTIVE)
        )
    except ControlError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; the engine finishes {args.command} anyway", file=sys.stderr)
        return 130
    if as_json:
        text = json.dumps(result, indent=2)
    elif args.command == "status":
        text = summary(from_doc(EngineSnapshot, result))
    else:
        text = _outcome(args.command, result)
    try:
        print(text, flush=True)
    except BrokenPipeError:  # `ctl status --json | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if args.command == "flatten" and not result.get("flat"):
        return 1
    if args.command == "cancel-all" and result.get("failed"):
        return 1
    return 0


async def _request(data_dir: Path, command: str, confirmed: bool) -> Any:
    client = ControlClient(data_dir)
    await client.connect()
    try:
        return await client.request(command, **({"confirmed": True} if confirmed else {}))
    finally:
        await client.close()


def _outcome(command: str, result: dict[str, Any]) -> str:
    state = f"trading is {result.get('state', '?')}"
    if command == "halt":
        ledger = str(result.get("mode", "")).lower() or "current"
        return (
            f"kill switch engaged: {state}, {result['open_orders']} open order(s) left in the "
            f"{ledger} ledger (the engine's log says how many it canceled in each)"
        )
    if command == "cancel-all":
        failed = result.get("failed") or []
        if failed:
            state += f"; {len(failed)} NOT canceled, first: {failed[0]}"
        return f"canceled {len(result['canceled'])} open order(s); {state}"
    if command == "flatten":
        return f"flat; {state}" if result["flat"] else f"NOT flat (see the engine's log); {state}"
    if command == "release":
        return f"kill switch released: {state} (`{PROG} resume` trades again)"
    return state


def summary(snapshot: EngineSnapshot) -> str:
    """A few lines for an operator: state, money, orders, positions, breakers, data freshness."""
    ccy = snapshot.quote_currency
    lines = [
        f"{snapshot.state.value} · {snapshot.mode.value} · {snapshot.venue} · "
        + ("connected" if snapshot.connected else snapshot.starting_note() or "DISCONNECTED"),
        f"equity {fmt.money(snapshot.equity)} {ccy} · day PnL {fmt.signed_money(snapshot.day_pnl)} "
        f"{ccy} · {snapshot.fills_count} fill(s)",
    ]
    orders = [
        f"{o.symbol} {o.side.value} {o.order_type.value} {fmt.amount(o.amount)}"
        + (f" @ {fmt.price(o.price)}" if o.price is not None else "")
        for o in snapshot.open_orders
    ]
    lines.append(_listing("open orders", orders))
    positions = [
        f"{p.symbol} {fmt.amount(p.amount)} @ {fmt.price(p.average_entry)} "
        f"uPnL {fmt.signed_money(p.unrealized_pnl)}"
        for p in snapshot.positions.values()
        if p.amount
    ]
    lines.append(_listing("positions", positions))
    tripped = [
        f"{b.category} {b.state.value} ({b.consecutive_failures}/{b.threshold} failures)"
        for b in snapshot.breakers
        if b.state is not BreakerState.CLOSED
    ]
    lines.append("breakers: " + (", ".join(tripped) if tripped else "all closed"))
    ages = {s: snapshot.quote_age_s(s) for s in snapshot.symbols}
    missing = sorted(s for s, age in ages.items() if age is None)
    known = {s: age for s, age in ages.items() if age is not None}
    if missing:
        lines.append(f"no quote yet: {', '.join(missing)}")
    elif known:
        worst = max(known, key=lambda s: known[s])
        lines.append(f"worst quote age {known[worst]:.1f} s ({worst})")
    return "\n".join(lines)


def _listing(title: str, items: list[str]) -> str:
    if not items:
        return f"{title}: none"
    shown = "; ".join(items[:SHOWN_PER_LIST])
    more = f"; +{len(items) - SHOWN_PER_LIST} more" if len(items) > SHOWN_PER_LIST else ""
    return f"{title} ({len(items)}): {shown}{more}"
