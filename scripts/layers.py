#!/usr/bin/python3
"""The include rule of src/README.md, checked: every '#include "..."' in
src/ names its folder, points at a header that exists, and stays within its
layer's row of the table; and no module (X.c with X.h) includes its way back
to itself. A header with no .c of its own (a family's private header, such as
codec/decoder.h) is no module: an include of it counts as an include of what
it includes. Exits 1 with one line per fault, 0 when the tree keeps the rule.
Run: python3 scripts/layers.py src
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
ROW = re.compile(r"^\|\s*`(\w+)/`\s*\|([^|]*)\|", re.M)


def rule(src):
    """{layer: set of layers it may include, itself included}, from the
    table in SRC/README.md, in the table's order."""
    with open(os.path.join(src, "README.md")) as f:
        text = f.read()
    may = {}
    for layer, allowed in ROW.findall(text):
        may[layer] = {w.strip() for w in allowed.split(",") if w.strip()} | {layer}
    if not may:
        sys.exit("layers: %s/README.md has no layer table" % src)
    for layer, allowed in may.items():
        unknown = allowed - set(may)
        if unknown:
            sys.exit("layers: %s may include unknown layer %s" % (layer, sorted(unknown)))
    return may


def module(path):
    """src/inputs/arch_test.c -> inputs/arch_test; src/inputs/arch.h -> inputs/arch."""
    return os.path.splitext(path)[0]


def main(src):
    may = rule(src)
    faults = []
    incs = {}		# module -> the headers its .c and .h include
    for layer in sorted(os.listdir(src)):
        top = os.path.join(src, layer)
        if not os.path.isdir(top):
            continue
        if layer not in may:
            faults.append("%s/: a folder the layer table does not name" % layer)
            continue
        for root, _, files in os.walk(top):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.relpath(os.path.join(root, name), src)
                allowed = set(may[layer])
                if name.endswith("_test.c") or name.startswith("unit_test."):
                    allowed.add("common")
                with open(os.path.join(src, path)) as f:
                    text = f.read()
                for lineno, inc in ((text.count("\n", 0, m.start()) + 1, m.group(1))
                                    for m in INCLUDE.finditer(text)):
                    where = "src/%s:%d: \"%s\"" % (path, lineno, inc)
                    if "/" not in inc:
                        faults.append("%s: name the header's folder" % where)
                        continue
                    if not os.path.isfile(os.path.join(src, inc)):
                        faults.append("%s: no such header in src/" % where)
                        continue
                    target = inc.split("/")[0]
                    if target not in allowed:
                        faults.append("%s: %s/ may not include %s/ (src/README.md)"
                                      % (where, layer, target))
                    if not name.endswith("_test.c"):
                        incs.setdefault(module(path), set()).add(inc)
                faults += order_faults(path, text, list(may))
    edges = module_edges(src, incs)
    faults += cycles(edges)
    for f in faults:
        print("layers: " + f)
    if faults:
        sys.exit(1)
    print("layers: %d layers, %d modules, no upward include, no cycle" % (len(may), len(edges)))


def order_faults(path, text, layers):
    """A module's own header first, then the project's headers by layer from
    the top (the table's last row first), by name within a layer: in each
    run of consecutive '#include "..."' lines of PATH."""
    out = []
    own = module(path) + ".h"
    for run in re.findall(r'(?:^#include "[^"]+"\n)+', text, re.M):
        names = re.findall(r'"([^"]+)"', run)
        if path.endswith(".c") and names[0] == own:
            names = names[1:]
        rank = [(-layers.index(n.split("/")[0]) if n.split("/")[0] in layers else 0, n)
                for n in names]
        if rank != sorted(rank):
            out.append("src/%s: includes out of order (own header, then by layer from "
                       "the top, then by name): %s" % (path, ", ".join(names)))
    return out


def module_edges(src, incs):
    """Module -> the modules it uses, a header without a .c looked through."""
    def real(h):
        return os.path.isfile(os.path.join(src, module(h) + ".c"))

    edges = {}
    for m, hs in incs.items():
        if not os.path.isfile(os.path.join(src, m + ".c")):
            continue
        seen, todo = set(), list(hs)
        while todo:
            h = todo.pop()
            if h in seen:
                continue
            seen.add(h)
            if real(h):
                if module(h) != m:
                    edges.setdefault(m, set()).add(module(h))
            else:
                todo.extend(incs.get(module(h), ()))
    return edges


def cycles(edges):
    """One message for each include cycle found by a depth-first walk."""
    out, state, stack = [], {}, []

    def walk(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                loop = stack[stack.index(n):] + [n]
                out.append("include cycle: " + " -> ".join(loop))
            elif n not in state:
                walk(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            walk(m)
    return out


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "src")
