#!/bin/bash
# usage: platform-floor.sh MAX_VERSION BINARY...
# Fails when any binary imports a libvirt symbol whose version tag is newer
# than LIBVIRT_MAX_VERSION (or LIBVIRT_QEMU_...), or any private libvirt
# symbol: virtsnap must run on libvirt >= MAX_VERSION (README.md: libvirt 1.2.9 / QEMU 2.1).
set -euo pipefail

max=$1
shift

# Prints the offending "symbol tag" pairs of objdump -T output read on stdin.
offending() {
    awk -v max="$max" '
        function newer(v, m,    a, b, i, n) {
            n = split(v, a, "."); split(m, b, ".")
            for (i = 1; i <= 3; i++) {
                if ((a[i] + 0) > (b[i] + 0)) return 1
                if ((a[i] + 0) < (b[i] + 0)) return 0
            }
            return 0
        }
        {
            for (f = 1; f <= NF; f++) {
                if ($f ~ /^\(?LIBVIRT_/) {
                    tag = $f; gsub(/[()]/, "", tag)
                    if (tag ~ /^LIBVIRT_PRIVATE_/) { print $NF, tag; next }
                    v = tag; sub(/^LIBVIRT_(QEMU_|LXC_|ADMIN_)?/, "", v)
                    if (newer(v, max)) print $NF, tag
                }
            }
        }'
}

# The check must be able to fail: feed it a symbol from libvirt 4.0 first.
sample='0000000000000000      DF *UND*  0000000000000000 (LIBVIRT_4.0.0) virDomainSetLifecycleAction'
if [ -z "$(printf '%s\n' "$sample" | offending)" ]; then
    echo "platform-floor: self-test failed: a LIBVIRT_4.0.0 symbol was not flagged" >&2
    exit 1
fi

[ $# -gt 0 ] || { echo "platform-floor: no binaries to check" >&2; exit 1; }
status=0
for binary in "$@"; do
    dump=$(objdump -T "$binary")
    count=$(printf '%s\n' "$dump" | grep -c 'LIBVIRT_' || true)
    if [ "$count" -eq 0 ]; then
        # Tools that never talk to libvirt (copy, verify) do not load it; a
        # binary that does load it must show what it imports.
        # Read whole before matching: with pipefail, grep -q leaving early
        # would fail the pipeline through objdump's SIGPIPE.
        headers=$(objdump -p "$binary")
        if grep -q 'NEEDED.*libvirt' <<<"$headers"; then
            echo "platform-floor: $binary loads libvirt but imports no libvirt symbol" >&2
            status=1
        elif ! grep -q 'NEEDED' <<<"$headers"; then
            echo "platform-floor: $binary is not linked dynamically; its libvirt use cannot be checked" >&2
            status=1
        else
            echo "platform-floor: $(basename "$binary"): uses no libvirt"
        fi
        continue
    fi
    bad=$(printf '%s\n' "$dump" | offending)
    if [ -n "$bad" ]; then
        echo "platform-floor: $binary needs libvirt newer than $max:" >&2
        printf '  %s\n' "$bad" >&2
        status=1
    else
        newest=$(printf '%s\n' "$dump" | grep -o 'LIBVIRT_[A-Z_]*[0-9.]*' | sort -u -V -t_ -k2 | tr '\n' ' ')
        echo "platform-floor: $(basename "$binary"): $count libvirt symbols, tags: $newest"
    fi
done
exit $status
