"""The lean ccxt import loads the exchange in use and nothing else, and stays a complete ccxt."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_fresh(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_only_the_requested_exchange_is_imported() -> None:
    out = run_fresh(
        """
        import sys
        from tradetui.core.venue.loader import ccxt_module, pro_exchange_class
        kraken = pro_exchange_class("kraken")
        from ccxt.async_support.base.exchange import Exchange
        from ccxt.base.errors import OrderNotFound
        assert issubclass(kraken, Exchange) and kraken.__module__ == "ccxt.pro.kraken"
        assert ccxt_module().OrderNotFound is OrderNotFound
        loaded = sorted(m for m in sys.modules if m.startswith(("ccxt.async_support.", "ccxt.pro.")))
        print(" ".join(m for m in loaded if ".base" not in m))
        """
    )
    assert out.split() == ["ccxt.async_support.kraken", "ccxt.pro.kraken"]


def test_other_exchanges_still_load_on_first_use_and_unknown_ids_raise() -> None:
    out = run_fresh(
        """
        from tradetui.core.venue.loader import pro_exchange_class
        import ccxt
        pro_exchange_class("kraken")
        print(ccxt.async_support.binance.__name__, ccxt.kraken.__module__)
        try:
            pro_exchange_class("no_such_exchange")
        except AttributeError:
            print("refused")
        """
    )
    assert out.splitlines() == ["binance ccxt.kraken", "refused"]
