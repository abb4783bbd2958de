"""Provides a lean ccxt import: only the exchange in use is loaded, not all ~110 of them.

``import ccxt.pro`` runs three package ``__init__`` modules that import every exchange class:
about 1 s and 50 MB here even with bytecode, several seconds without. This module runs those
``__init__`` files with the per-exchange import lines taken out, then imports the one exchange
asked for. Any other exchange is still found on first attribute access (module ``__getattr__``),
so code that expects the full package keeps working.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from typing import Any

_PACKAGES = ("ccxt", "ccxt.async_support", "ccxt.pro")

# Matches `from ccxt.kraken import kraken  # noqa: F401` (and the async_support / pro forms);
# never `from ccxt.base... import ...`.
_EXCHANGE_IMPORT = re.compile(
    r"^from ccxt\.(?:async_support\.|pro\.)?(?!base\b)(\w+) import \1\b.*$", re.MULTILINE
)


def pro_exchange_class(exchange_id: str) -> Any:
    """Return ``ccxt.pro.<exchange_id>`` while importing as little of ccxt as possible.

    Raises AttributeError when ccxt.pro has no such exchange.
    """
    _install_lean_packages()
    pro = sys.modules["ccxt.pro"]
    return getattr(pro, exchange_id)


def ccxt_module() -> Any:
    """The ``ccxt`` package (lean unless something imported it in full), for its error classes."""
    _install_lean_packages()
    return sys.modules["ccxt"]


def _install_lean_packages() -> None:
    for name in _PACKAGES:
        if name in sys.modules:
            continue  # already imported, lean or in full: use it as it is
        spec = importlib.util.find_spec(name)
        # Type narrowing for mypy; the value is set on this path.
        assert spec is not None and spec.loader is not None, f"{name} is not installed"  # nosec B101
        module = importlib.util.module_from_spec(spec)
        source = spec.loader.get_source(name)  # type: ignore[attr-defined]
        sys.modules[name] = module
        try:
            code = compile(_EXCHANGE_IMPORT.sub("", source), str(spec.origin), "exec")
            # ccxt's own __init__ source from the installed package, minus its exchange imports.
            exec(code, module.__dict__)  # nosec B102
        except BaseException:
            del sys.modules[name]
            raise
        module.__getattr__ = _lazy_exchange(name)  # type: ignore[method-assign]
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


def _lazy_exchange(package: str) -> Any:
    def __getattr__(exchange_id: str) -> Any:  # noqa: N807 - PEP 562 module hook
        if exchange_id.startswith("_"):
            raise AttributeError(exchange_id)
        try:
            module = importlib.import_module(f"{package}.{exchange_id}")
        except ModuleNotFoundError:
            raise AttributeError(f"module {package!r} has no attribute {exchange_id!r}") from None
        if not isinstance(module, types.ModuleType) or not hasattr(module, exchange_id):
            raise AttributeError(f"module {package!r} has no attribute {exchange_id!r}")
        exchange_class = getattr(module, exchange_id)
        # Bind the class over the submodule attribute, as ccxt's own __init__ does.
        setattr(sys.modules[package], exchange_id, exchange_class)
        return exchange_class

    return __getattr__
