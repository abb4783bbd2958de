"""Provides a lean ccxt import: only the exchange in use is loaded, not all ~110 of them.

Python runs a package's ``__init__`` before any of its modules, and ccxt's three package
``__init__`` files (ccxt, ccxt.async_support, ccxt.pro) import every exchange class, so even
``import ccxt.pro.kraken`` costs what ``import ccxt.pro`` does: about 0.5 s and 400 modules with
bytecode, several seconds without. ccxt offers no lighter entry point (ccxt/ccxt#29573).

This module runs those ``__init__`` files with the per-exchange imports taken out, then imports
the one exchange asked for. Any other exchange is still found on first attribute access (module
``__getattr__``), so code that expects the full package keeps working. Should a ccxt release
change those files so the trimmed packages cannot be built, or come out incomplete, ccxt's own
``__init__`` runs instead, in the same module objects: start-up is slower, ccxt is whole, and one
warning says so.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.util
import logging
import sys
import threading
import types
from collections.abc import Callable
from importlib.machinery import ModuleSpec
from typing import Any, Literal

log = logging.getLogger("tradetui.venue")

_PACKAGES = ("ccxt", "ccxt.async_support", "ccxt.pro")

# The shared ``Exchange`` base each package exports.
_EXCHANGE_BASE_MODULES = {
    "ccxt": "ccxt.base.exchange",
    "ccxt.async_support": "ccxt.async_support.base.exchange",
    "ccxt.pro": "ccxt.async_support.base.exchange",
}

ImportMode = Literal["lean", "full"]


class LeanImportError(Exception):
    """ccxt's package ``__init__`` has a shape the trimmer does not understand."""


_lock = threading.Lock()
_installed = False
_lazy_attributes: dict[str, dict[str, tuple[str, str]]] = {}
"""Per package this module built lean: attribute name -> (module, name) it is imported from."""
_warned = False


def pro_exchange_class(exchange_id: str) -> Any:
    """Return ``ccxt.pro.<exchange_id>`` while importing as little of ccxt as possible.

    Raises AttributeError when ccxt.pro has no such exchange.
    """
    with _lock:
        _install()
        pro = sys.modules["ccxt.pro"]
        try:
            return getattr(pro, exchange_id)
        except Exception as exc:
            if exchange_id not in _lazy_attributes.get("ccxt.pro", {}):
                raise  # not an exchange of this ccxt, or ccxt.pro was imported in full
            # ccxt's own __init__ would have imported this exchange; let it, and see.
            _fall_back_to_full_import(f"ccxt.pro.{exchange_id} failed to load on its own: {exc!r}")
        return getattr(pro, exchange_id)


def ccxt_module() -> Any:
    """The ``ccxt`` package (lean unless something imported it in full), for its error classes."""
    with _lock:
        _install()
        return sys.modules["ccxt"]


def exchange_ids() -> list[str]:
    """Every exchange id ccxt.pro knows (without importing the exchanges)."""
    with _lock:
        _install()
        return list(sys.modules["ccxt.pro"].exchanges)


def ccxt_import_mode() -> ImportMode:
    """``lean`` while ccxt.pro loads its exchanges on first use, ``full`` once all are imported.

    ``full`` means the lean import fell back (a warning said why) or something imported
    ccxt.pro before this module did.
    """
    with _lock:
        _install()
        return "lean" if "ccxt.pro" in _lazy_attributes else "full"


def _install() -> None:
    global _installed
    if _installed:
        return
    try:
        for name in _PACKAGES:
            if name not in sys.modules:  # imported in full by someone else: use it as it is
                _install_lean_package(name)
        for name in _lazy_attributes:
            _check_complete(sys.modules[name])
    except Exception as exc:
        _fall_back_to_full_import(str(exc) if isinstance(exc, LeanImportError) else repr(exc))
    _installed = True


def _install_lean_package(name: str) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None:
        raise LeanImportError(f"{name} is not installed")
    code, lazy_attributes = _trim(name, _package_source(spec), str(spec.origin))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # Registered before it runs, so the fallback re-runs it in full should it fail.
    _lazy_attributes[name] = lazy_attributes
    # ccxt's own __init__ source from the installed package, minus its exchange imports.
    exec(code, module.__dict__)  # nosec B102
    module.__dict__["__getattr__"] = _lazy_attribute_hook(name, lazy_attributes)
    _bind_to_parent(name, module)


def _package_source(spec: ModuleSpec) -> str:
    """The package's ``__init__`` source as installed (tests swap in reshaped ones)."""
    loader = spec.loader
    source = (
        loader.get_source(spec.name) if isinstance(loader, importlib.abc.InspectLoader) else None
    )
    if source is None:
        raise LeanImportError(f"{spec.name} is installed without its source")
    return source


def _trim(
    package: str, source: str, filename: str
) -> tuple[types.CodeType, dict[str, tuple[str, str]]]:
    """Compile ``source`` without its exchange imports; map each name they bound to its import.

    An exchange import is a top-level ``from <package>.<id> import ...`` whose ``<id>`` is in the
    package's ``exchanges`` list; each of those ids must be imported exactly so, and no other
    statement may use a name they bind, else the shape is not understood (LeanImportError).
    """
    tree = ast.parse(source, filename)
    exchange_ids = _exchange_ids(package, tree)
    lazy_attributes: dict[str, tuple[str, str]] = {}
    trimmed_ids: set[str] = set()
    kept: list[ast.stmt] = []
    for statement in tree.body:
        module = _exchange_module(package, statement, exchange_ids)
        if module is None or not isinstance(statement, ast.ImportFrom):
            kept.append(statement)
            continue
        for alias in statement.names:
            if alias.name == "*":
                raise LeanImportError(f"{package} star-imports from {module}")
            lazy_attributes[alias.asname or alias.name] = (module, alias.name)
        trimmed_ids.add(module.rpartition(".")[2])
    if trimmed_ids != exchange_ids:
        unmatched = sorted(exchange_ids ^ trimmed_ids)[:3]
        raise LeanImportError(
            f"{package}'s exchanges list and its exchange imports differ (e.g. {unmatched})"
        )
    reserved_names = {*lazy_attributes, "__getattr__"}
    for statement in kept:
        _check_leaves_alone(package, statement, reserved_names)
    tree.body = kept
    # dont_inherit: compile ccxt's code with its own __future__ flags, not this module's.
    return compile(tree, filename, "exec", dont_inherit=True), lazy_attributes


def _check_leaves_alone(package: str, statement: ast.stmt, names: set[str]) -> None:
    """Raise LeanImportError if ``statement`` reads or binds one of ``names``.

    A kept statement that uses an exchange class would fail, or worse differ, without its
    import; one that defines ``__getattr__`` means ccxt loads lazily on its own.
    """
    if isinstance(statement, ast.Import | ast.ImportFrom):  # binds names, reads none
        used = {(alias.asname or alias.name).partition(".")[0] for alias in statement.names}
    else:
        used = {
            node.id if isinstance(node, ast.Name) else node.name
            for node in ast.walk(statement)
            if isinstance(node, ast.Name | ast.FunctionDef | ast.ClassDef)
        }
    if clash := sorted(used & names):
        raise LeanImportError(
            f"{package} line {statement.lineno} uses {clash[0]!r}, which the trimmer takes over"
        )


def _exchange_ids(package: str, tree: ast.Module) -> set[str]:
    """The ``exchanges = [...]`` list of ``package``'s ``__init__``, which must be literal strings."""
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        target = statement.targets[0]
        if not (isinstance(target, ast.Name) and target.id == "exchanges"):
            continue
        try:
            exchange_ids = ast.literal_eval(statement.value)
        except (ValueError, TypeError, SyntaxError):
            break
        if (
            isinstance(exchange_ids, list)
            and exchange_ids
            and all(
                isinstance(exchange_id, str) and exchange_id.isidentifier()
                for exchange_id in exchange_ids
            )
        ):
            return set(exchange_ids)
        break
    raise LeanImportError(f"{package} has no literal exchanges list")


def _exchange_module(package: str, statement: ast.stmt, exchange_ids: set[str]) -> str | None:
    """``<package>.<id>`` when ``statement`` imports from that exchange module, else None."""
    if not isinstance(statement, ast.ImportFrom) or statement.module is None:
        return None
    if statement.level == 0:
        module = statement.module
    elif statement.level == 1:  # relative to the package itself
        module = f"{package}.{statement.module}"
    else:
        return None
    parent, _, exchange_id = module.rpartition(".")
    return module if parent == package and exchange_id in exchange_ids else None


def _check_complete(package: types.ModuleType) -> None:
    """Raise LeanImportError unless the lean ``package`` holds what its full import would."""
    from ccxt.base import errors

    name = package.__name__
    version = getattr(package, "__version__", None)
    if not isinstance(version, str) or not version:
        raise LeanImportError(f"{name} has no __version__")
    if version != getattr(sys.modules["ccxt"], "__version__", version):
        raise LeanImportError(f"{name} {version} is not ccxt {sys.modules['ccxt'].__version__}")
    exchange_ids = {module.rpartition(".")[2] for module, _ in _lazy_attributes[name].values()}
    if set(getattr(package, "exchanges", ())) != exchange_ids:
        raise LeanImportError(f"{name}.exchanges does not list its exchange classes")
    exchange_base = sys.modules[_EXCHANGE_BASE_MODULES[name]].Exchange
    if getattr(package, "Exchange", None) is not exchange_base:
        raise LeanImportError(f"{name}.Exchange is not {exchange_base.__module__}.Exchange")
    missing = [e for e in errors.__all__ if getattr(package, e, None) is not getattr(errors, e)]
    if missing:
        raise LeanImportError(f"{name} lacks ccxt's error classes {missing[:3]}")


def _fall_back_to_full_import(reason: str) -> None:
    """Run ccxt's own ``__init__`` files in the modules built lean, keeping every object handed out.

    The modules keep their identity and ``ccxt.base`` is not run again, so error classes and
    exchange classes already in use stay the very objects ccxt raises and returns.
    """
    global _installed, _warned
    try:
        for name in _PACKAGES:
            module = sys.modules.get(name)
            if name in _lazy_attributes and module is not None:
                module.__dict__.pop("__getattr__", None)
                module = importlib.reload(module)
            else:
                module = importlib.import_module(name)
            _bind_to_parent(name, module)
    except BaseException:
        for name in _lazy_attributes:
            sys.modules.pop(name, None)  # half-built: let a later call start over
        _installed = False
        raise
    finally:
        _lazy_attributes.clear()
    if not _warned:
        _warned = True
        log.warning(
            "ccxt %s: lean import not possible (%s); imported all of ccxt.pro instead, so "
            "start-up is slower",
            getattr(sys.modules["ccxt"], "__version__", "?"),
            reason,
            extra={"event": "ccxt_full_import"},
        )


def _bind_to_parent(name: str, module: types.ModuleType) -> None:
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def _lazy_attribute_hook(
    package: str, lazy_attributes: dict[str, tuple[str, str]]
) -> Callable[[str], Any]:
    # A module-level __getattr__ (PEP 562): called only for names the module does not hold.
    def __getattr__(attribute: str) -> Any:
        if attribute not in lazy_attributes:
            raise AttributeError(f"module {package!r} has no attribute {attribute!r}")
        module_name, imported_name = lazy_attributes[attribute]
        value = getattr(importlib.import_module(module_name), imported_name)
        # Bind the class over the submodule attribute, as ccxt's own __init__ does.
        setattr(sys.modules[package], attribute, value)
        return value

    return __getattr__
