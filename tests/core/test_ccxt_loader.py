"""The lean ccxt import loads the exchange in use and nothing else, and stays a complete ccxt.

Should ccxt's package ``__init__`` change shape, it falls back to the full import, with the same
classes and one warning. Each test runs in a fresh interpreter: the loader acts once per process.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Exchange modules (not ccxt.base and the like) in a ccxt package namespace.
COUNT_EXCHANGE_MODULES = """
def exchange_modules():
    import ccxt
    packages = {"ccxt": ccxt.exchanges}
    if "ccxt.pro" in sys.modules:
        import ccxt.async_support, ccxt.pro
        packages |= {"ccxt.async_support": ccxt.async_support.exchanges, "ccxt.pro": ccxt.pro.exchanges}
    return sorted(f"{p}.{e}" for p, ids in packages.items() for e in ids if f"{p}.{e}" in sys.modules)
"""

# ccxt, ccxt.async_support and ccxt.pro export ccxt.base.errors' classes themselves.
CHECK_ERROR_CLASSES = """
def check_error_classes():
    import ccxt, ccxt.async_support, ccxt.pro
    from ccxt.base import errors
    from tradetui.core.venue.loader import ccxt_module
    assert ccxt_module() is ccxt
    assert len(errors.__all__) > 30
    for package in (ccxt, ccxt.async_support, ccxt.pro):
        for name in errors.__all__:
            assert getattr(package, name) is getattr(errors, name), (package.__name__, name)
"""


def run_fresh(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter, with the helpers above and warnings logged to stderr."""
    prelude = "import logging, sys\nlogging.basicConfig(format='%(levelname)s %(message)s')\n"
    script = prelude + COUNT_EXCHANGE_MODULES + CHECK_ERROR_CLASSES + textwrap.dedent(code)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result


def test_only_the_requested_exchange_is_imported() -> None:
    result = run_fresh(
        """
        from tradetui.core.venue.loader import ccxt_import_mode, ccxt_module, pro_exchange_class
        kraken = pro_exchange_class("kraken")
        from ccxt.async_support.base.exchange import Exchange
        from ccxt.base.errors import OrderNotFound
        assert issubclass(kraken, Exchange) and kraken.__module__ == "ccxt.pro.kraken"
        assert ccxt_module().OrderNotFound is OrderNotFound
        assert ccxt_import_mode() == "lean"
        print(" ".join(exchange_modules()))
        """
    )
    assert result.stdout.split() == ["ccxt.async_support.kraken", "ccxt.pro.kraken"]
    assert result.stderr == ""


def test_the_lean_import_loads_far_fewer_modules_than_the_full_one() -> None:
    lean = run_fresh(
        """
        from tradetui.core.venue.loader import pro_exchange_class
        pro_exchange_class("kraken")
        print(len(exchange_modules()), len([m for m in sys.modules if m.startswith("ccxt")]))
        """
    )
    full = run_fresh(
        """
        import ccxt.pro
        ccxt.pro.kraken
        print(len(exchange_modules()), len([m for m in sys.modules if m.startswith("ccxt")]))
        """
    )
    lean_exchanges, lean_modules = map(int, lean.stdout.split())
    full_exchanges, full_modules = map(int, full.stdout.split())
    assert lean_exchanges == 2 and full_exchanges > 100
    assert full_modules - lean_modules >= full_exchanges - lean_exchanges


def test_error_classes_are_ccxts_own() -> None:
    run_fresh(
        """
        from tradetui.core.venue.loader import ccxt_module
        ccxt_module()
        check_error_classes()
        """
    )


def test_other_exchanges_still_load_on_first_use_and_unknown_ids_raise() -> None:
    result = run_fresh(
        """
        from tradetui.core.venue.loader import pro_exchange_class
        import ccxt
        pro_exchange_class("kraken")
        print(ccxt.async_support.binance.__name__, ccxt.kraken.__module__)
        from ccxt.pro import binance
        print(binance.__module__)
        for unknown in ("no_such_exchange", "base", "__path_hooks__"):
            try:
                pro_exchange_class(unknown)
            except AttributeError:
                print("refused", unknown)
        """
    )
    assert result.stdout.splitlines() == [
        "binance ccxt.kraken",
        "ccxt.pro.binance",
        "refused no_such_exchange",
        "refused base",
        "refused __path_hooks__",
    ]


# Each rewrites ccxt.pro's __init__ source, as the loader reads it, into a shape a future ccxt
# might have and the trimmer must not trust; the second item is part of the reason it gives.
UNDERSTOOD_NOT = {
    "uses an exchange class": (
        'source + "\\nby_id = {kraken.id: kraken}\\n"',
        "uses 'kraken'",
    ),
    "uses one in a function": (
        'source + "\\ndef default():\\n    return kraken\\n"',
        "uses 'kraken'",
    ),
    "fails to run": (
        'source + "\\nimport ccxt.pro.no_such_helper\\n"',
        "No module named 'ccxt.pro.no_such_helper'",
    ),
    "lists exchanges another way": (
        'source.replace("exchanges = [", "exchanges = [*(), ", 1)',
        "no literal exchanges list",
    ),
    "lacks an error class": (
        'source.replace("from ccxt.base.errors import InvalidNonce", "")',
        "lacks ccxt's error classes ['InvalidNonce']",
    ),
    "lists an exchange it does not import": (
        'source.replace("from ccxt.pro.binance import binance", "")',
        "exchanges list and its exchange imports differ (e.g. ['binance'])",
    ),
    "loads lazily itself": (
        'source + "\\ndef __getattr__(name):\\n    raise AttributeError(name)\\n"',
        "uses '__getattr__'",
    ),
}


@pytest.mark.parametrize("shape", list(UNDERSTOOD_NOT), ids=list(UNDERSTOOD_NOT))
def test_an_init_the_trimmer_does_not_understand_falls_back_to_the_full_import(
    shape: str,
) -> None:
    edit, reason = UNDERSTOOD_NOT[shape]
    result = run_fresh(
        f"""
        from tradetui.core.venue import loader
        read_source = loader._package_source
        def package_source(spec):
            source = read_source(spec)
            return ({edit}) if spec.name == "ccxt.pro" else source
        loader._package_source = package_source
        kraken = loader.pro_exchange_class("kraken")
        loader.pro_exchange_class("binance")
        assert loader.ccxt_import_mode() == "full"
        assert kraken.__module__ == "ccxt.pro.kraken" and kraken().id == "kraken"
        check_error_classes()
        print(len(exchange_modules()))
        """
    )
    assert int(result.stdout) > 100  # all of ccxt.pro, ccxt.async_support and ccxt
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("WARNING ccxt "), result.stderr
    assert "lean import not possible (" in warnings[0] and reason in warnings[0]


def test_an_exchange_that_will_not_load_lean_falls_back_keeping_the_classes_in_use() -> None:
    """Error classes handed out before the fallback stay the ones ccxt raises after it."""
    result = run_fresh(
        """
        from tradetui.core.venue import loader
        invalid_nonce = loader.ccxt_module().InvalidNonce
        assert loader.ccxt_import_mode() == "lean"
        # As if ccxt.pro.kraken needed something the trimmed package lacks.
        loader._lazy_attributes["ccxt.pro"]["kraken"] = ("ccxt.pro.no_such_module", "kraken")
        kraken = loader.pro_exchange_class("kraken")
        assert kraken.__module__ == "ccxt.pro.kraken"
        assert loader.ccxt_import_mode() == "full"
        assert loader.ccxt_module().InvalidNonce is invalid_nonce
        check_error_classes()
        loader.pro_exchange_class("binance")
        print(len(exchange_modules()))
        """
    )
    assert int(result.stdout) > 100
    assert result.stderr.count("WARNING") == 1
    assert "ccxt.pro.kraken failed to load on its own" in result.stderr


def test_a_ccxt_imported_in_full_beforehand_is_used_as_it_is() -> None:
    result = run_fresh(
        """
        import ccxt.pro
        from tradetui.core.venue.loader import ccxt_import_mode, ccxt_module, pro_exchange_class
        assert pro_exchange_class("kraken") is ccxt.pro.kraken and ccxt_module() is ccxt
        print(ccxt_import_mode())
        """
    )
    assert result.stdout.strip() == "full"
    assert result.stderr == ""
