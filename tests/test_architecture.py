"""The import rules of the house (README, "How the code is organised"), checked on the source."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "stance"
# what running a saved model may import: never training, evaluation, the CLIs or their libraries
INFERENCE_SIDE = ("stance.inference", "stance.io", "stance.artifacts", "stance.labels", "stance.hardware", "stance.errors")
FORBIDDEN_FOR_INFERENCE = (
    "stance.training", "stance.evaluation", "stance.cli", "stance.config", "stance.data", "stance.benchmarks",
    "stance.labeling", "hydra", "omegaconf", "datasets", "sklearn", "matplotlib",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (TYPE_CHECKING blocks excepted)."""
    tree = ast.parse(path.read_text())
    type_checking = {
        id(node) for block in ast.walk(tree) if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    edges = {}
    for name, path in modules.items():
        # "from stance.x import y" names module stance.x.y when y is a module, else stance.x
        edges[name] = {target for target in imports_of(path) if target in modules and target != name}
        edges[name] |= {target.rsplit(".", 1)[0] for target in imports_of(path) if target not in modules and target.rsplit(".", 1)[0] in modules} - {name}
    return edges


def test_no_import_cycles(graph):
    visiting, done, path = set(), set(), []

    def visit(module):
        if module in done:
            return
        assert module not in visiting, "import cycle: " + " -> ".join(path[path.index(module):] + [module])
        visiting.add(module)
        path.append(module)
        for target in sorted(graph[module]):
            visit(target)
        path.pop()
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_nothing_imports_a_cli_module(graph):
    offenders = {m: sorted(t for t in targets if t.startswith("stance.cli")) for m, targets in graph.items() if not m.startswith("stance.cli")}
    assert not {m: t for m, t in offenders.items() if t}


def test_entry_points_do_not_import_each_other(graph):
    entry_points = {m for m in graph if m.startswith("stance.cli.") and m not in ("stance.cli.errors", "stance.cli.logs")}
    for module in entry_points:
        assert not graph[module] & entry_points, module


def test_inference_side_imports_no_training_evaluation_cli_or_their_libraries():
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        if not name.startswith(INFERENCE_SIDE):
            continue
        for target in imports_of(path):
            assert not target.startswith(FORBIDDEN_FOR_INFERENCE), f"{name} imports {target}"


def test_loading_and_running_a_model_loads_none_of_them(tiny_model_dir):
    code = (
        "import sys\n"
        "from stance import StanceClassifier\n"
        f"clf = StanceClassifier.from_pretrained({str(tiny_model_dir)!r}, precision='fp32')\n"
        "clf.predict(['We will send troops.'])\n"
        f"print('\\n'.join(m for m in sys.modules if m.startswith({FORBIDDEN_FOR_INFERENCE!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


def test_artifacts_schema_does_not_need_torch():
    result = subprocess.run([sys.executable, "-c", "import sys, stance.artifacts; print('torch' in sys.modules)"],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
