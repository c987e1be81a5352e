"""The API reference documents every public name, and only existing ones.

The pages ``docs/api/*.md`` list the names in ``autosummary`` blocks under a
``currentmodule``; namespaces are documented by ``automodule``.  A public
name added to an ``__all__`` without a line in those pages fails here, as
does a listed name that no longer exists.  Also checked: the parser of the
benchmark page's figure reads the accuracy table of
``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import types
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
API = ROOT / "docs" / "api"

# Namespaces whose ``__all__`` the reference must cover.
NAMESPACES = (
    "numderiv",
    "numderiv.grid",
    "numderiv.compat",
    "numderiv.compat.numpy",
    "numderiv.compat.scipy",
    "numderiv.compat.scilab",
    "numderiv.testing",
    "numderiv.plot",
    "numderiv.cli",
)


def _documented() -> tuple[set[str], set[str]]:
    """(objects listed in autosummary blocks, modules given an automodule)."""
    objects: set[str] = set()
    modules: set[str] = set()
    for page in sorted(API.glob("*.md")):
        current = None
        in_summary = False
        for line in page.read_text(encoding="utf-8").splitlines():
            if m := re.match(r"\s*\.\. automodule:: (\S+)", line):
                modules.add(m[1])
            if m := re.match(r"\s*\.\. currentmodule:: (\S+)", line):
                current, in_summary = m[1], False
                continue
            if re.match(r"\s*\.\. autosummary::", line):
                in_summary = True
                continue
            if not in_summary:
                continue
            entry = line.strip()
            if not entry or entry.startswith(":"):  # blank or an option
                continue
            if entry.startswith(("..", "```")) or not line.startswith("   "):
                in_summary = False
                continue
            assert current is not None, f"{page.name}: autosummary before currentmodule"
            objects.add(f"{current}.{entry}")
    return objects, modules


def _public(namespace: str) -> list[str]:
    module = importlib.import_module(namespace)
    return [f"{namespace}.{name}" for name in module.__all__]


def test_the_pages_are_found() -> None:
    objects, modules = _documented()
    assert "numderiv.jacobian" in objects
    assert "numderiv.grid" in modules
    assert len(objects) > 40


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_public_name_is_documented(namespace: str) -> None:
    objects, modules = _documented()
    assert namespace in modules, f"no automodule for {namespace} in docs/api/"
    missing = []
    for qualname in _public(namespace):
        obj = getattr(importlib.import_module(namespace), qualname.rsplit(".", 1)[1])
        documented = modules if isinstance(obj, types.ModuleType) else objects
        if qualname not in documented:
            missing.append(qualname)
    assert not missing, f"public names missing from docs/api/*.md: {missing}"


def test_every_documented_name_exists_and_is_public() -> None:
    objects, modules = _documented()
    public = {q for ns in NAMESPACES for q in _public(ns)}
    for qualname in sorted(objects):
        namespace, name = qualname.rsplit(".", 1)
        assert hasattr(importlib.import_module(namespace), name), qualname
        assert qualname in public, f"{qualname} is documented but not in __all__"
    for namespace in modules:
        importlib.import_module(namespace)


def test_the_api_pages_are_in_the_toctree() -> None:
    index = (API / "index.md").read_text(encoding="utf-8")
    for page in API.glob("*.md"):
        if page.stem != "index":
            assert re.search(rf"^{page.stem}$", index, re.M), page.name


def _peers_module() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        "docs_gallery_peers", ROOT / "docs" / "gallery" / "peers.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_figure_reads_the_accuracy_table() -> None:
    peers = _peers_module()
    text = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    problems, libraries, digits, evals = peers.parse_accuracy(text)
    assert "numderiv adaptive" in libraries
    assert "numdifftools" in libraries
    assert "exp'(1)" in problems
    assert digits.shape == evals.shape == (len(problems), len(libraries))
    # every cell of the table is in the arrays: n/a as NaN, the rest as numbers
    section = text[text.index(peers.SECTION) :]
    rows = [r for r in section.splitlines() if r.startswith("| ")][1:]
    na = sum(r.count("| n/a") for r in rows)
    assert np.isnan(digits).sum() == na
    assert np.all((digits[~np.isnan(digits)] >= 0) & (digits[~np.isnan(digits)] <= 16))
    assert np.all(evals[~np.isnan(evals)] >= 1)


def test_benchmark_figure_parser_refuses_a_malformed_table() -> None:
    peers = _peers_module()
    with pytest.raises(ValueError, match="no section"):
        peers.parse_accuracy("# Benchmark results\n")
    bad = f"{peers.SECTION}\n\n| problem | jacobi |\n|---|---|\n| exp'(1) | 14.4 |\n"
    with pytest.raises(ValueError, match=r"cell '14\.4'"):
        peers.parse_accuracy(bad)
