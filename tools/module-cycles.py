#!/usr/bin/env python3
"""Finds modules that import each other, in every crate of the workspace.

The house rule: no module imports one that imports it back. A module's
imports are the `crate::`, `super::` and `self::` paths in its file (use
lines and paths in code; `#[cfg(test)] mod tests` blocks are left out, since
a test module reaching into its parent is how Rust tests are written). An
edge from a::x to b::y counts between the two children of their closest
common ancestor (cli -> edit::when is cli -> edit), and an edge between a
module and one of its own ancestors or descendants is no edge (a parent
declares its children). Cycles among those edges are reported.

    tools/module-cycles.py [--graph]   exit 1 if any crate has a cycle

A plain reading of the source, not rustc's name resolution: enough for
this workspace's style (no glob re-exports across modules, no macros that
write paths). Hand-written because no maintained tool prints Rust module
cycles without a nightly toolchain.
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Each crate's root file; its modules are found from the `mod` lines.
CRATE_ROOTS = [
    "src/lib.rs",
    "core/src/lib.rs",
    "canaryctl/src/lib.rs",
    "canaryctl/src/main.rs",
    "tests/main.rs",
    "tools/wasm-slim/src/main.rs",
    "tools/oci-image/src/lib.rs",
    "tools/oci-image/src/main.rs",
]

MOD_LINE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", re.M)
PATH_ATTR = re.compile(r'#\[path\s*=\s*"([^"]+)"\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_0-9]+)\s*;')
# crate::a::b, super::super::a, self::a, also inside `use x::{...}` groups.
PATH_REF = re.compile(r"\b((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\buse\s+((?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};", re.S)


def strip_test_modules(text):
    """Drops `#[cfg(test)] mod NAME { ... }` blocks (brace matching)."""
    out = []
    i = 0
    pattern = re.compile(r"#\[cfg\(test\)\]\s*(?:pub\s+)?mod\s+[a-z_0-9]+\s*\{")
    while True:
        m = pattern.search(text, i)
        if not m:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i : m.start()])
        depth = 1
        j = m.end()
        while j < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = j


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def child_file(parent_file, parent_is_dir_owner, name):
    base = os.path.dirname(parent_file) if parent_is_dir_owner else os.path.splitext(parent_file)[0]
    for candidate in (os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")):
        if os.path.exists(candidate):
            return candidate
    return None


def load_crate(root_file):
    """Returns {module path tuple: source text without comments and test blocks}."""
    modules = {}

    def visit(path, file, owns_dir):
        with open(file, encoding="utf-8") as handle:
            text = strip_comments(handle.read())
        body = strip_test_modules(text)
        modules[path] = body
        explicit = {name: rel for rel, name in PATH_ATTR.findall(body)}
        for name in MOD_LINE.findall(body):
            if name in explicit:
                base = os.path.dirname(file)
                child = os.path.normpath(os.path.join(base, explicit[name]))
                child = child if os.path.exists(child) else None
            else:
                child = child_file(file, owns_dir, name)
            if child:
                owns = os.path.basename(child) == "mod.rs"
                visit(path + (name,), child, owns)

    visit((), root_file, True)
    return modules


def references(module, body):
    refs = set(PATH_REF.findall(body))
    for prefix, group in USE_GROUP.findall(body):
        for item in re.split(r"[,\s{}]+", group):
            item = item.split(" as ")[0].strip()
            if item and item != "self":
                refs.add(prefix + "::" + item)
            elif item == "self":
                refs.add(prefix)
    for ref in refs:
        parts = ref.split("::")
        if parts[0] == "crate":
            target = []
            rest = parts[1:]
        else:
            target = list(module)
            rest = parts
            while rest and rest[0] in ("super", "self"):
                if rest[0] == "super" and target:
                    target.pop()
                rest = rest[1:]
        yield tuple(target), rest


def edges(modules):
    found = set()
    for module, body in modules.items():
        for base, rest in references(module, body):
            target = base
            # Walk down while the next segment is a module.
            for segment in rest:
                if target + (segment,) in modules:
                    target = target + (segment,)
                else:
                    break
            common = 0
            while common < min(len(module), len(target)) and module[common] == target[common]:
                common += 1
            if common == len(module) or common == len(target):
                continue  # ancestor or descendant, or itself
            a = module[: common + 1]
            b = target[: common + 1]
            found.add((a, b))
    return found


def cycles(edge_set):
    graph = {}
    for a, b in edge_set:
        graph.setdefault(a, set()).add(b)
    # Tarjan's strongly connected components.
    index, low, stack, on_stack, result = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return result


def name(path):
    return "::".join(path) or "crate"


def main():
    show_graph = "--graph" in sys.argv[1:]
    failed = False
    for rel in CRATE_ROOTS:
        file = os.path.join(ROOT, rel)
        if not os.path.exists(file):
            continue
        modules = load_crate(file)
        edge_set = edges(modules)
        if show_graph:
            for a, b in sorted(edge_set):
                print(f"{rel}: {name(a)} -> {name(b)}")
        for component in cycles(edge_set):
            failed = True
            print(f"{rel}: modules import each other: " + " <-> ".join(name(m) for m in component))
    if not failed:
        print(f"module-cycles: no cycle in {len([r for r in CRATE_ROOTS if os.path.exists(os.path.join(ROOT, r))])} crate roots")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
