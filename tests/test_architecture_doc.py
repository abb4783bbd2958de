"""docs/architecture.md stays true: one table per package naming every module, no module over 400
lines without a reason at its top, at most eight modules directly under tradetui/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tradetui"
DOC = ROOT / "docs" / "architecture.md"
MAX_LINES = 400
REASON = "# Over 400 lines:"


def documented() -> dict[str, set[str]]:
    """Package path (``tradetui/core/venue``) -> module file names its table lists."""
    tables: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in DOC.read_text().splitlines():
        heading = re.fullmatch(r"### `(tradetui(?:/\w+)*)/`", line.strip())
        if heading:
            current = tables.setdefault(heading.group(1), set())
            continue
        row = re.match(r"\| `(\w+\.py)` \|", line)
        if row and current is not None:
            current.add(row.group(1))
        elif line.startswith("#"):
            current = None
    return tables


def modules() -> list[Path]:
    """Every module with code: a package ``__init__`` that is only a docstring is the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        body = ast.parse(path.read_text()).body
        if path.name == "__init__.py" and len(body) <= 1:
            continue
        found.append(path)
    return found


def test_every_module_has_a_line_in_its_packages_table() -> None:
    tables = documented()
    missing = [
        str(path.relative_to(ROOT))
        for path in modules()
        if path.name not in tables.get(str(path.parent.relative_to(ROOT)), set())
    ]
    assert missing == [], f"add these to docs/architecture.md: {missing}"


def test_every_module_the_tables_name_exists() -> None:
    stale = [
        f"{package}/{name}"
        for package, names in documented().items()
        for name in names
        if not (ROOT / package / name).exists()
    ]
    assert stale == [], f"docs/architecture.md names modules that are gone: {stale}"


def test_no_module_passes_400_lines_without_saying_why() -> None:
    long = []
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text().splitlines()
        if len(lines) > MAX_LINES and not any(REASON in line for line in lines[:5]):
            long.append(f"{path.relative_to(ROOT)} ({len(lines)} lines)")
    assert long == [], f"split these or give a one-line reason ({REASON} ...) at the top: {long}"


def test_at_most_eight_modules_sit_directly_under_tradetui() -> None:
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= 8, top
