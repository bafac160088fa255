"""The import rules of the layout, read from the source with `ast` (nothing is imported):

- `bot/` is the domain and imports no framework and no adapter;
- channels and actions are adapters that never import each other;
- bot modules import each other without cycles, and without imports hidden in functions.
"""

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = {
    "actions", "channels", "runtime", "rasa", "rasa_sdk", "sanic", "aiogram", "socketio", "prometheus_client", "aiohttp",
}
# Function-level imports of project modules allowed in bot/, as (importing module or package,
# imported module or package). None are left: a cycle is broken by moving code, not by hiding an import.
LAZY_ALLOWED: set = set()


def within(name, package):
    return name == package or name.startswith(package + ".")


def modules(package):
    """(dotted name, is a package's __init__, syntax tree) for every module under `package`."""
    for path in sorted((ROOT / package).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        yield name.removesuffix(".__init__"), path.name == "__init__.py", ast.parse(path.read_text(encoding="utf-8"))


def imports(name, is_package, tree, in_function=False):
    """(imported module or name, inside a function) for every import statement below `tree`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import):
            yield from ((alias.name, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = name if is_package else name.rpartition(".")[0]
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = ".".join(part for part in (base if node.level else "", node.module or "") if part)
            yield module, in_function
            yield from ((f"{module}.{alias.name}", in_function) for alias in node.names)
        nested = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        yield from imports(name, is_package, node, nested)


def test_the_domain_imports_no_framework_and_the_adapters_not_each_other():
    rules = {"bot": FRAMEWORKS, "channels": {"actions"}, "actions": {"channels"}}
    broken = [
        (name, imported)
        for package, forbidden in rules.items()
        for name, is_package, tree in modules(package)
        for imported, _ in imports(name, is_package, tree)
        if imported.split(".")[0] in forbidden
    ]
    assert broken == []


def test_bot_modules_import_each_other_without_cycles():
    found = {name: (is_package, tree) for name, is_package, tree in modules("bot")}
    graph = {name: set() for name in found}
    for name, (is_package, tree) in found.items():
        for imported, in_function in imports(name, is_package, tree):
            parts = imported.split(".")
            # Importing a.b.c runs a/__init__ and a/b/__init__ first, unless the importer is inside them.
            targets = {".".join(parts[:end]) for end in range(1, len(parts) + 1)}
            graph[name] |= {t for t in targets if not in_function and t in found and not within(name, t)}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        raise AssertionError("import cycle: " + " -> ".join(reversed(error.args[1]))) from None


def test_no_function_level_imports_of_project_modules_in_bot_beyond_the_known_ones():
    unexplained = {
        (name, imported)
        for name, is_package, tree in modules("bot")
        for imported, in_function in imports(name, is_package, tree)
        if in_function and imported.split(".")[0] in {"bot", "actions", "channels", "runtime"}
        and not any(within(name, owner) and within(imported, target) for owner, target in LAZY_ALLOWED)
    }
    assert unexplained == set()
