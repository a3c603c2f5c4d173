"""The layers docs/architecture.md draws hold: no module under src/actionbench imports one above
or beside its own component, nothing imports another module's private names, and only the CLI
parses command lines.

The tables are read from the doc itself, so the doc and this check cannot drift apart; every
import is found with the AST, including imports inside functions.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
DOC = REPO / "docs" / "architecture.md"


@dataclass(frozen=True)
class Component:
    name: str
    level: int
    prefixes: tuple[str, ...]


def read_tables(doc: str) -> list[list[Component]]:
    """Every markdown table of the doc whose header starts ``| level |``, as components."""
    tables: list[list[Component]] = []
    current: list[Component] | None = None
    for line in doc.splitlines():
        if line.startswith("| level |"):
            current = []
            tables.append(current)
            continue
        if current is None:
            continue
        if not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if set(cells[0]) <= {"-"}:
            continue
        prefixes = tuple(re.findall(r"`([\w.]+)`", cells[2]))
        current.append(Component(cells[1], int(cells[0]), prefixes))
    return tables


def module_name(path: Path) -> str:
    """``src/actionbench/models/__init__.py`` -> ``actionbench.models.__init__``."""
    return ".".join(path.relative_to(SRC).with_suffix("").parts)


def resolve(dotted: str) -> str | None:
    """The module name of an importable ``actionbench`` path (a package is its ``__init__``)."""
    base = SRC.joinpath(*dotted.split("."))
    if (base / "__init__.py").is_file():
        return f"{dotted}.__init__"
    if base.with_suffix(".py").is_file():
        return dotted
    return None


@dataclass(frozen=True)
class Import:
    line: int
    target: str  # module name as module_name() writes it
    names: tuple[str, ...]  # the names taken from it (from-imports), else ()


def imports_of(path: Path) -> list[Import]:
    """Every ``actionbench`` import of one module, relative ones resolved."""
    own = module_name(path)
    package = own.rsplit(".", 1)[0]
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "actionbench":
                    target = resolve(alias.name)
                    assert target, f"{path}:{node.lineno}: cannot resolve {alias.name}"
                    found.append(Import(node.lineno, target, ()))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                dotted = ".".join(parts + ([node.module] if node.module else []))
            else:
                dotted = node.module or ""
            if dotted.split(".")[0] != "actionbench":
                continue
            plain: list[str] = []
            for alias in node.names:
                submodule = resolve(f"{dotted}.{alias.name}")
                if submodule:  # `from package import module`
                    found.append(Import(node.lineno, submodule, ()))
                else:
                    plain.append(alias.name)
            if plain:
                target = resolve(dotted)
                assert target, f"{path}:{node.lineno}: cannot resolve {dotted}"
                found.append(Import(node.lineno, target, tuple(plain)))
    return found


def component_of(module: str, table: list[Component]) -> Component | None:
    """The component whose longest listed name covers ``module``."""
    best: tuple[int, Component] | None = None
    for comp in table:
        for prefix in comp.prefixes:
            covers = module == prefix or module.startswith(prefix + ".")
            if covers and (best is None or len(prefix) > best[0]):
                best = (len(prefix), comp)
    return best[1] if best else None


def violation(source: str, target: str, table: list[Component]) -> str | None:
    """Why ``source`` may not import ``target`` under ``table``; None when it may."""
    here, there = component_of(source, table), component_of(target, table)
    if here is None or there is None or here == there:
        return None
    if there.level > here.level:
        return f"goes up ({here.name}, level {here.level} -> {there.name}, level {there.level})"
    if there.level == here.level:
        return f"goes sideways ({here.name} -> {there.name}, both level {here.level})"
    return None


MODULES = sorted((SRC / "actionbench").rglob("*.py"))
TABLES = read_tables(DOC.read_text())


def test_the_doc_has_the_package_and_the_models_tables() -> None:
    assert len(TABLES) == 2, "docs/architecture.md: expected the layer table and the models table"
    package, models = TABLES
    assert {c.name for c in package} >= {"cli", "analysis", "measure", "engine", "data", "models"}
    assert {c.name for c in models} == {"door", "networks", "weights", "temporal"}
    for table in TABLES:
        for comp in table:
            for prefix in comp.prefixes:
                assert resolve(prefix.removesuffix(".__init__")), f"{comp.name}: no module {prefix}"


def test_every_module_belongs_to_a_layer() -> None:
    package, models = TABLES
    homeless = [module_name(p) for p in MODULES if component_of(module_name(p), package) is None]
    assert not homeless, f"add these to a layer in docs/architecture.md: {homeless}"
    in_models = [module_name(p) for p in MODULES if module_name(p).startswith("actionbench.models")]
    homeless = [m for m in in_models if component_of(m, models) is None]
    assert not homeless, f"add these to a part of models/ in docs/architecture.md: {homeless}"


def every_import() -> list[tuple[str, str, Import]]:
    """(module, its file relative to the repository, import) for every import in src."""
    return [
        (module_name(path), str(path.relative_to(REPO)), imp)
        for path in MODULES
        for imp in imports_of(path)
    ]


def test_no_import_goes_up_or_sideways() -> None:
    problems = [
        f"{rel}:{imp.line} imports {imp.target}: {why}"
        for source, rel, imp in every_import()
        for why in (violation(source, imp.target, table) for table in TABLES)
        if why
    ]
    assert not problems, "\n".join(problems)


def test_no_module_imports_another_modules_private_names() -> None:
    problems = [
        f"{rel}:{imp.line} imports {private} from {imp.target}"
        for source, rel, imp in every_import()
        for private in [[n for n in imp.names if n.startswith("_") and not n.endswith("__")]]
        if private and imp.target != source
    ]
    assert not problems, "\n".join(problems)


def test_only_the_cli_parses_command_lines() -> None:
    offenders = []
    for path in MODULES:
        if module_name(path).startswith("actionbench.cli"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if "argparse" in names:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, f"argparse outside actionbench.cli: {offenders}"


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("actionbench.data.dataset", "actionbench.engine.loader", "goes up"),
        ("actionbench.data.dataset", "actionbench.models.weights.normalization", "sideways"),
        ("actionbench.engine.train", "actionbench.config", "sideways"),
        ("actionbench.engine.train", "actionbench.data.dataset", None),
        ("actionbench.status", "actionbench.engine.train", "sideways"),
        ("actionbench.models.networks.resnet2d", "actionbench.models.registry", "goes up"),
        ("actionbench.models.weights.init", "actionbench.models.temporal.modules", None),
        ("actionbench.models.temporal.modules", "actionbench.models.weights.init", "goes up"),
        ("actionbench.cli.profile", "actionbench.measure.profiling", None),
        ("actionbench.errors", "actionbench.spec", None),
    ],
)
def test_the_rule_reads_the_tables_as_the_doc_says(source, target, expected) -> None:
    """The check itself: known good and bad imports are judged as the doc's rule says."""
    whys = [violation(source, target, table) for table in TABLES]
    found = [w for w in whys if w]
    if expected is None:
        assert not found
    else:
        assert found and expected in found[0]


def test_imports_inside_functions_are_seen() -> None:
    """The walk misses no import: one at the top and one inside a function are both found."""
    source = SRC / "actionbench" / "measure" / "data_benchmark.py"
    targets = {imp.target for imp in imports_of(source)}
    assert "actionbench.engine.loader" in targets
    assert "actionbench.models.weights.normalization" in targets  # imported inside a function
