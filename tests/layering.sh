#!/bin/bash
# The layers of libsnap, bottom first, are written once, in ARCHITECTURE.md
# ("Layers, bottom first: ..."); this test reads them from there and fails
# when a module includes a header of a layer above its own, or when a
# folder of libsnap is in no layer. Tools may include any layer.
set -euo pipefail
fail() { echo "layering: $*" >&2; exit 1; }

# First, on a tree of two layers where the lower includes the upper: the
# check must fail there, or it could not fail here either.
if [ "${1:-}" != --tree ]; then
    sample=$(mktemp -d)
    trap 'rm -rf "$sample"' EXIT
    mkdir -p "$sample/libsnap/low" "$sample/libsnap/high"
    echo 'Layers, bottom first: `low` → `high`.' >"$sample/ARCHITECTURE.md"
    echo '#include "high/b.hpp"' >"$sample/libsnap/low/a.hpp"
    touch "$sample/libsnap/high/b.hpp"
    if "$0" --tree "$sample" 2>/dev/null; then
        fail "the check passed a tree whose lower layer includes the upper one"
    fi
    rm -rf "$sample"
    trap - EXIT
    exec "$0" --tree "$(cd "$(dirname "$0")/.." && pwd)"
fi
cd "$2"

line=$(grep -m1 '^Layers, bottom first:' ARCHITECTURE.md) || fail "ARCHITECTURE.md states no layer order"
read -r -a layers <<<"$(sed 's/^Layers, bottom first: *//; s/[`.]//g; s/ *→ */ /g' <<<"$line")"
[ "${#layers[@]}" -ge 2 ] || fail "cannot read the layer order from: $line"
declare -A rank
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done

for dir in libsnap/*/; do
    module=$(basename "$dir")
    [ -n "${rank[$module]+x}" ] || fail "libsnap/$module is in no layer of ARCHITECTURE.md"
done

problems=0
for file in libsnap/*/*.hpp libsnap/*/*.cpp libsnap/*/*.in; do
    [ -f "$file" ] || continue
    module=$(basename "$(dirname "$file")")
    while IFS= read -r included; do
        target=${included%%/*}
        [ -n "${rank[$target]+x}" ] || continue # a system or generated header
        if [ "${rank[$target]}" -gt "${rank[$module]}" ]; then
            echo "layering: $file ($module) includes $included, from the layer above it ($target)" >&2
            problems=$((problems + 1))
        fi
    done < <(sed -n 's/^#include "\([a-z_]*\/[^"]*\)".*/\1/p' "$file")
done
[ "$problems" -eq 0 ] || fail "$problems include(s) reach up a layer"
echo "layering: ${layers[*]}: no module includes from a layer above its own"
