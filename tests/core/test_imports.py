"""Import contracts: the core never needs Qt, and the editor's modules load without torch."""

from __future__ import annotations

import json

from tests.core.conftest import run_python

BLOCK_QT = """
import importlib, json, pkgutil, sys

BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "PySide2")

class NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, NoQt())
import builder
names = [m.name for m in pkgutil.walk_packages(builder.__path__, "builder.")]
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = repr(exc)
qt = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps({"names": names, "failed": failed, "qt": qt}))
"""


def test_core_imports_without_qt() -> None:
    result = run_python(BLOCK_QT, timeout=240)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"builder.graph", "builder.compile", "builder.cli", "builder.summary"} <= set(found["names"])
    assert found["failed"] == {}
    assert found["qt"] == []


NO_TORCH = """
import json, sys
import builder.catalog, builder.fileformat, builder.graph, builder.layout, builder.naming
import builder.templates, builder.validate
graph = builder.fileformat.load("graphs/resnet110.json")
report = builder.validate.validate(graph)
builder.templates.cifar_resnet(20)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchinfo", "PySide6"))
print(json.dumps({"ok": report.ok, "heavy": heavy}))
"""


def test_editor_modules_do_not_import_torch() -> None:
    result = run_python(NO_TORCH)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"ok": True, "heavy": []}
