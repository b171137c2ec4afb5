#!/bin/bash
# usage: install-tree.sh BUILD_DIR
# `cmake --install` honours the prefix and DESTDIR (GNUInstallDirs): into
# an empty DESTDIR with prefix /opt/virtsnap-test it puts every tool (which
# then runs from there), every man page (which renders), and the manifest
# schema, the systemd units, the bash completion and the example
# configuration, under
# DESTDIR/opt/virtsnap-test and nowhere else.
set -euo pipefail
build=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "install-tree: $*" >&2; exit 1; }

DESTDIR="$root" cmake --install "$build" --prefix /opt/virtsnap-test >"$root.log" 2>&1 ||
    { cat "$root.log" >&2; rm -f "$root.log"; fail "cmake --install failed"; }
rm -f "$root.log"
[ "$(ls -A "$root")" = opt ] || fail "installed outside the prefix: $(ls -A "$root")"
[ "$(ls -A "$root/opt")" = virtsnap-test ] || fail "installed outside the prefix: $(ls -A "$root/opt")"
prefix="$root/opt/virtsnap-test"
for tool in create commit copy verify backup list restore mount; do
    binary="$prefix/bin/virtsnap-$tool"
    [ -x "$binary" ] || fail "virtsnap-$tool is not installed: $(find "$prefix" -type f)"
    "$binary" --version | grep -q "^virtsnap-$tool " || fail "the installed virtsnap-$tool does not run"
    page="$prefix/share/man/man1/virtsnap-$tool.1"
    [ -f "$page" ] || fail "the man page of virtsnap-$tool is not installed"
    MANWIDTH=80 man -l "$page" 2>/dev/null | grep -q "virtsnap-$tool" || fail "$page does not render"
done
[ -f "$prefix/share/man/man7/virtsnap.7" ] || fail "virtsnap(7) is not installed"
cmp -s "$prefix/share/virtsnap/schemas/manifest.rng" "$(dirname "$0")/../schemas/manifest.rng" ||
    fail "the manifest schema is not installed"
unexpected=$(find "$prefix" -type f | grep -v -e '/bin/virtsnap-[a-z]*$' -e '/share/man/man[17]/virtsnap[a-z-]*\.[17]$' \
    -e '/share/virtsnap/schemas/manifest.rng$' -e '/lib/systemd/system/virtsnap-backup\(@\|-all\)\.\(service\|timer\)$' \
    -e '/share/bash-completion/completions/virtsnap-[a-z]*$' -e '/share/doc/virtsnap/examples/virtsnap.conf$' || true)
[ -z "$unexpected" ] || fail "installed but not expected: $unexpected"
echo "install-tree: $(find "$prefix" -type f | wc -l) files under the prefix, tools run, pages render"
