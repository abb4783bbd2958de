"""Provides `tradetui setup` as plain prompts: store a checked API key, list and remove accounts."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from tradetui.credentials.records import (
    ENV_API_KEY,
    CredentialsError,
    check_account_name,
    credentials_from_env,
    load_credentials,
    mask_key,
    os_keyring,
)
from tradetui.credentials.setup import (
    DEFAULT_ACCOUNT,
    SIM_VENUE,
    SetupError,
    check_credentials,
    describe_venue,
    make_draft,
    save_account,
    trade_hint,
)
from tradetui.credentials.stores import (
    BACKENDS,
    ENV_KEYRING_PASSPHRASE,
    AccountRecord,
    CredentialStore,
    EnvStore,
    delete_account,
    env_variables,
    file_keyring_exists,
    file_keyring_path,
    open_file_store,
    open_os_store,
    read_records,
)

PROG = "tradetui setup"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check an exchange API key with a signed call, then store it; list or remove accounts.",
    )
    parser.add_argument("--exchange", "--venue", metavar="ID", help="ccxt exchange id, or sim")
    parser.add_argument("--account", metavar="NAME", help="name for these credentials (default)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="os: the OS keyring (default when there is one); file: an encrypted file protected "
        f"by a passphrase ({ENV_KEYRING_PASSPHRASE} supplies it); env: environment variables",
    )
    parser.add_argument("--sim-url", metavar="URL", help="REST URL of a running `tradetui sim`")
    parser.add_argument(
        "--sandbox",
        action=argparse.BooleanOptionalAction,
        help="use the exchange's sandbox/testnet (asked when ccxt has one)",
    )
    parser.add_argument(
        "--allow-plaintext",
        action="store_true",
        help="store even if the OS keyring backend keeps secrets unencrypted",
    )
    parser.add_argument("--list", action="store_true", help="show stored accounts (keys masked)")
    parser.add_argument("--remove", metavar="NAME", help="delete a stored account")
    parser.add_argument("--yes", action="store_true", help="do not ask before --remove")
    parser.add_argument(
        "--no-ui", action="store_true", help="plain prompts instead of the setup screen"
    )
    return parser


@dataclass
class Prompts:
    """How setup asks: ``input`` and ``getpass`` by default; tests inject their own."""

    ask_line: Callable[[str], str]
    ask_secret: Callable[[str], str]

    def ask(self, prompt: str, default: str = "") -> str:
        shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
        return self.ask_line(shown).strip() or default

    def confirm(self, prompt: str) -> bool:
        return self.ask_line(f"{prompt} [y/N]: ").strip().lower() in ("y", "yes")


def main(
    argv: list[str] | None = None,
    *,
    ask: Callable[[str], str] | None = None,
    ask_secret: Callable[[str], str] | None = None,
) -> int:
    """Entry point of `tradetui setup`; returns the process exit code."""
    args = _parser().parse_args(argv)
    prompts = Prompts(ask or input, ask_secret or getpass.getpass)
    try:
        if args.list:
            return _list()
        if args.remove:
            return _remove(args.remove, args.yes, prompts)
        if _wants_screen(args) and ask is None and ask_secret is None:
            return _screen(args)
        return _wizard(args, prompts)
    except EOFError:
        _fail("no input (needs an interactive terminal to ask for the secret)", newline=True)
        return 2
    except KeyboardInterrupt:
        _fail("cancelled, nothing stored", newline=True)
        return 130
    except (SetupError, CredentialsError) as exc:
        _fail(str(exc))
        return 2


def _wants_screen(args: argparse.Namespace) -> bool:
    """The setup screen needs a terminal at both ends; pipes and --no-ui get plain prompts."""
    return not args.no_ui and sys.stdin.isatty() and sys.stdout.isatty()


def _screen(args: argparse.Namespace) -> int:
    from tradetui.ui.screens.setup_support import SetupOptions
    from tradetui.ui.setup_app import run_setup_app

    options = SetupOptions(
        exchange=args.exchange,
        account=args.account,
        backend=args.backend,
        sim_url=args.sim_url,
        sandbox=args.sandbox,
        allow_plaintext=args.allow_plaintext,
    )
    return run_setup_app(options)


def _fail(message: str, newline: bool = False) -> None:
    print(f"{chr(10) if newline else ''}{PROG}: {message}", file=sys.stderr)


def _wizard(args: argparse.Namespace, prompts: Prompts) -> int:
    # The backend comes first, so nobody types a secret that cannot be stored.
    store = _choose_store(args, prompts)
    venue = describe_venue(
        args.exchange or prompts.ask("Venue (a ccxt exchange id such as kraken, or sim)", SIM_VENUE)
    )
    sim_url = ""
    if venue.is_sim:
        sim_url = args.sim_url or prompts.ask("Simulator REST URL (`tradetui sim` prints it)")
    sandbox = False
    if venue.has_sandbox:
        sandbox = (
            args.sandbox
            if args.sandbox is not None
            else prompts.confirm(f"Use the {venue.venue} sandbox/testnet")
        )
    account = args.account or prompts.ask("Account name", DEFAULT_ACCOUNT)
    from_env = credentials_from_env() if store.kind == "env" else None
    if from_env is not None:
        print(f"Using the key in {ENV_API_KEY} and its companions (values not shown).")
        api_key, secret, passphrase = from_env.api_key, from_env.secret, from_env.passphrase
    else:
        api_key = prompts.ask("API key")
        secret = prompts.ask_secret("API secret (not shown; paste works): ")
        passphrase = (
            prompts.ask_secret("API passphrase (not shown): ") if venue.needs_passphrase else None
        )
    draft = make_draft(
        account, venue, api_key, secret, passphrase, sandbox=sandbox, sim_url=sim_url
    )
    target = f"the simulator at {draft.sim_url}" if venue.is_sim else venue.venue
    if sandbox:
        target += " (sandbox)"
    print(f"Checking the key with a signed fetch_balance on {target}...")
    result = asyncio.run(check_credentials(draft))
    if not result.authenticated:
        _fail(f"{result.problem}; nothing stored")
        return 2
    for line in result.lines():
        print(f"  {line}")
    record = save_account(draft, store)
    if store.kind == "env":
        names = ", ".join(env_variables(venue.needs_passphrase))
        print(
            f"Recorded account {account!r} ({venue.venue}, key {record.key_hint}); nothing stored:"
        )
        print(f"  set {names} where tradetui runs (values not shown here).")
    else:
        print(
            f"Stored account {account!r} ({venue.venue}, key {record.key_hint}) in {store.where}."
        )
    print(trade_hint(record))
    return 0


def _choose_store(args: argparse.Namespace, prompts: Prompts) -> CredentialStore:
    kind = args.backend
    if kind is None:
        _, report = os_keyring()
        if report.ok or (report.plaintext and args.allow_plaintext):
            kind = "os"
        else:
            print(
                f"No secure OS keyring here ({report.name}): keep the credentials in an "
                "encrypted file (file) or in environment variables (env)."
            )
            kind = prompts.ask("Backend, file or env", "file").lower()
            if kind not in ("file", "env"):
                raise SetupError(f"backend {kind!r} is not file or env; nothing stored")
    if kind == "env":
        return EnvStore()
    if kind == "file":
        return open_file_store(_file_passphrase(prompts))
    store = open_os_store(args.allow_plaintext)
    _, report = os_keyring()
    if not report.ok:
        _fail(f"warning: {report.name} stores secrets unencrypted")
    return store


def _file_passphrase(prompts: Prompts) -> str:
    passphrase = os.environ.get(ENV_KEYRING_PASSPHRASE)
    if passphrase:
        return passphrase
    path = file_keyring_path()
    if file_keyring_exists(path):
        return prompts.ask_secret(f"Passphrase of {path} (not shown): ")
    passphrase = prompts.ask_secret(f"New passphrase for {path} (not shown): ")
    if prompts.ask_secret("The same passphrase again: ") != passphrase:
        raise SetupError("the two passphrases differ; nothing stored")
    return passphrase


def _list() -> int:
    records = read_records()
    if not records:
        print("No accounts stored: run `tradetui setup` to add one.")
        return 0
    rows: list[tuple[str, ...]] = [("ACCOUNT", "VENUE", "BACKEND", "KEY", "NOTES")]
    for record in records.values():
        notes = []
        if record.sandbox:
            notes.append("sandbox")
        if record.sim_url:
            notes.append(record.sim_url)
        if record.backend == "env":
            notes.append(f"{ENV_API_KEY} {'set' if os.environ.get(ENV_API_KEY) else 'not set'}")
        rows.append(
            (record.account, record.venue, record.backend, record.key_hint, " ".join(notes))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for cells in rows:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
        print("  ".join([*padded, cells[4]]).rstrip())
    return 0


def _remove(account: str, yes: bool, prompts: Prompts) -> int:
    record = read_records().get(account)
    if record is None:
        # Stored in the OS keyring before setup recorded backends.
        legacy = load_credentials(check_account_name(account))
        if legacy is not None:
            record = AccountRecord(account, legacy.exchange, "os", mask_key(legacy.api_key))
    if record is None:
        _fail(f"no account {account!r} is stored (`{PROG} --list` shows them)")
        return 2
    if not yes and not prompts.confirm(
        f"Remove account {account!r} ({record.venue}, {record.backend}, key {record.key_hint})"
    ):
        print("Nothing removed.")
        return 1
    delete_account(record)
    print(f"Removed account {account!r}.")
    if record.backend == "env":
        print(f"  The environment variables ({ENV_API_KEY} ...) are yours to unset.")
    return 0
