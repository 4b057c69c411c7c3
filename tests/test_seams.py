"""The estimators' seams: code outside aekit/estimators uses their public names only.

What recipes, the CLI and export call on an estimator is public and documented (``check_params``,
``check_fit_data``, ``map_batches``, ``threshold_rule``, the fitted attributes); an estimator's
``_private`` methods, attributes and module-level names stay free to change. The check reads the
source (imports inside functions count) and runs on a copy with a deliberate breach, to show it
can fail.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_name(path: Path, package: Path) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _defined_in_classes(tree: ast.AST) -> set[str]:
    """Private names an estimator module's classes define: methods, class attributes, ``self._x = ...``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(item.name)
                elif isinstance(item, ast.Assign):
                    names.update(t.id for t in item.targets if isinstance(t, ast.Name))
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    names.add(item.target.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.update([node.attr] if getattr(node.value, "id", None) == "self" else [])
    return {n for n in names if _private(n)}


def estimator_private_names(package: Path) -> set[str]:
    names: set[str] = set()
    for path in (package / "estimators").rglob("*.py"):
        names |= _defined_in_classes(ast.parse(path.read_text()))
    return names


def _imported_module(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _receiver(node: ast.Attribute) -> str | None:
    """``self``, ``cls``, ``super`` or another name (None: an expression) that an attribute is read on."""
    value = node.value
    if isinstance(value, ast.Call) and getattr(value.func, "id", None) == "super":
        return "super"
    return value.id if isinstance(value, ast.Name) else None


def _uses(tree: ast.AST, private: set[str], module: str, is_package: bool):
    """(line, what) for each private estimator name read on another object or imported."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in private:
            if _receiver(node) not in ("self", "cls", "super"):
                yield node.lineno, f".{node.attr}"
        elif isinstance(node, ast.ImportFrom):
            source = _imported_module(node, module, is_package)
            if source.startswith("aekit.estimators"):
                for alias in node.names:
                    if _private(alias.name):
                        yield node.lineno, f"{source}.{alias.name}"


def violations(package: Path) -> list[str]:
    """``file:line: what`` for each use of an estimator's private name outside aekit/estimators."""
    private = estimator_private_names(package)
    found = []
    for path in sorted(package.rglob("*.py")):
        if (package / "estimators") in path.parents:
            continue
        tree = ast.parse(path.read_text())
        module, where = _module_name(path, package), path.relative_to(package.parent)
        uses = _uses(tree, private, module, path.name == "__init__.py")
        found += [f"{where}:{line}: {what}" for line, what in uses]
    return found


def test_code_outside_the_estimators_uses_their_public_names_only():
    assert violations(ROOT / "aekit") == []


@pytest.mark.parametrize(
    "module, line",
    [
        ("aekit/recipes/base.py", "def _f(est):\n    est._train_config()"),  # a private method
        (
            "aekit/cli/cmd_anomaly.py",
            "def _g():\n    from ..estimators.persistence import _as_path",
        ),
        ("aekit/export/onnx.py", "def _h(det):\n    return det._members()"),
    ],
)
def test_a_private_call_from_outside_fails(tmp_path, module, line):
    shutil.copytree(
        ROOT / "aekit", tmp_path / "aekit", ignore=shutil.ignore_patterns("__pycache__")
    )
    with open(tmp_path / module, "a") as f:
        f.write(f"\n\n{line}\n")
    found = violations(tmp_path / "aekit")
    assert len(found) == 1 and found[0].startswith(module), found
