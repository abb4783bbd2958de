"""Provides `tradetui setup`: asks for an exchange API key and secret and stores them in the keyring."""

from __future__ import annotations

import argparse
import base64
import binascii
import getpass
import sys

from tradetui.credentials import (
    CredentialsError,
    keyring_backend_report,
    mask_key,
    store_credentials,
)

DEFAULT_EXCHANGE = "sim"
DEFAULT_ACCOUNT = "default"
_BASE64_SECRET_EXCHANGES = frozenset({"sim", "kraken"})
"""Exchanges whose secret ccxt base64-decodes before signing."""


class SetupError(Exception):
    """A problem with what the user typed, with a one-line message."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradetui setup", description="Store exchange API credentials in the OS keyring."
    )
    parser.add_argument("--exchange", metavar="ID", help="ccxt exchange id, or sim (default)")
    parser.add_argument("--account", metavar="NAME", help="name for these credentials (default)")
    parser.add_argument(
        "--allow-plaintext",
        action="store_true",
        help="store even if the keyring backend keeps secrets unencrypted",
    )
    return parser


def _ask(prompt: str, default: str) -> str:
    return input(f"{prompt} [{default}]: ").strip() or default


def _needs_passphrase(exchange: str) -> bool:
    """True when ccxt says the exchange wants a passphrase; raises SetupError if it is unknown."""
    if exchange == "sim":
        return False
    import ccxt  # slow (seconds), so only for real exchanges

    if exchange not in ccxt.exchanges:
        raise SetupError(f"unknown exchange {exchange!r}: use a ccxt id such as kraken, or sim")
    required: dict[str, bool] = getattr(ccxt, exchange)().requiredCredentials
    return bool(required.get("password"))


def _check_secret(exchange: str, secret: str) -> None:
    if exchange in _BASE64_SECRET_EXCHANGES:
        try:
            base64.b64decode(secret, validate=True)
        except binascii.Error:
            # Never echo the secret, not even in an error.
            raise SetupError(
                f"that {exchange} secret is not valid base64; copy it again from the API page"
            ) from None


def main(argv: list[str] | None = None) -> int:
    """Entry point of `tradetui setup`; returns the process exit code."""
    args = _parser().parse_args(argv)
    # Check the keyring before asking for anything, so nobody types a secret for nothing.
    report = keyring_backend_report()
    if not report.ok and not (report.plaintext and args.allow_plaintext):
        print(f"tradetui setup: {report.advice}", file=sys.stderr)
        return 2
    if not report.ok:
        print(f"tradetui setup: warning: {report.name} stores secrets unencrypted", file=sys.stderr)
    try:
        exchange = (args.exchange or _ask("Exchange", DEFAULT_EXCHANGE)).strip().lower()
        needs_passphrase = _needs_passphrase(exchange)
        account = (args.account or _ask("Account name", DEFAULT_ACCOUNT)).strip()
        api_key = input("API key: ").strip()
        secret = getpass.getpass("API secret (not shown): ").strip()
        passphrase = getpass.getpass("API passphrase (not shown): ") if needs_passphrase else None
        if not api_key or not secret:
            raise SetupError("the API key and the secret must not be empty")
        _check_secret(exchange, secret)
        credentials = store_credentials(account, exchange, api_key, secret, passphrase or None)
    except EOFError:
        print(
            "\ntradetui setup: no input (needs an interactive terminal to ask for the secret)",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("\ntradetui setup: cancelled, nothing stored", file=sys.stderr)
        return 130
    except (SetupError, CredentialsError) as exc:
        print(f"tradetui setup: {exc}", file=sys.stderr)
        return 2
    print(
        f"Stored {credentials.exchange} credentials for account {account!r} "
        f"(key {mask_key(credentials.api_key)}) in {report.name}."
    )
    return 0
