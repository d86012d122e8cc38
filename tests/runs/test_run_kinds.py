"""Every kind of task run the code records is registered (who may run it again, whom to tell when
its worker is lost), so a new kind cannot be forgotten: an unregistered kind answers 403 on "run
again" for everyone."""
import ast
import importlib
from pathlib import Path

import pytest

from parley.access.scopes import SCOPES
from parley.runs.kinds import run_kind

pytestmark = pytest.mark.django_db

PACKAGE = Path(importlib.import_module("parley").__file__).parent
RECORDING_CALLS = {"task_run_enqueue", "task_run_create"}


def _module_name(path: Path) -> str:
    return ".".join(("parley", *path.relative_to(PACKAGE).with_suffix("").parts))


def _resolve(name: str, tree: ast.Module, module_name: str) -> str:
    """A kind given by name: a constant of its own module, or one it imports (at the top or inside
    the function that queues the run)."""
    module = importlib.import_module(module_name)
    if isinstance(getattr(module, name, None), str):
        return getattr(module, name)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any((alias.asname or alias.name) == name for alias in node.names):
            source = importlib.import_module("." * node.level + (node.module or ""), module.__package__)
            original = next(alias.name for alias in node.names if (alias.asname or alias.name) == name)
            return getattr(source, original)
    raise AssertionError(f"{module_name}: kind {name!r} is neither a constant of the module nor imported")


def kinds_recorded() -> dict[str, list[str]]:
    """kind -> the places (module:line) that record runs of it, read from every module's source."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_name = _module_name(path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if func not in RECORDING_CALLS or module_name == "parley.runs.services":
                continue
            kind = next((k.value for k in node.keywords if k.arg == "kind"), None)
            where = f"{module_name}:{node.lineno}"
            if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                value = kind.value
            elif isinstance(kind, ast.Name):
                value = _resolve(kind.id, tree, module_name)
            else:
                raise AssertionError(f"{where}: {func} must name its kind as a string or a module constant")
            found.setdefault(value, []).append(where)
    return found


def test_every_kind_recorded_anywhere_is_registered_with_a_real_permission_and_scope():
    from django.contrib.auth.models import Permission

    recorded = kinds_recorded()
    # The scan sees the kinds queued from APIs, admin actions, beat tasks and commands alike.
    assert {"interchange.import", "datasets.promote", "datasets.release_build", "datasets.webhook_deliver",
            "feedback.mine_paraphrases", "holidays_materialize", "locales.bootstrap"} <= set(recorded), recorded
    unregistered = {kind: places for kind, places in recorded.items() if run_kind(kind) is None}
    assert not unregistered, f"register these kinds in their app's tasks.py (runs.kinds): {unregistered}"
    for kind in recorded:
        registered = run_kind(kind)
        app_label, codename = registered.permission.split(".", 1)
        assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), kind
        assert registered.scope in SCOPES, kind
