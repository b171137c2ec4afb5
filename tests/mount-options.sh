#!/bin/bash
# usage: mount-options.sh BUILD_DIR
# virtsnap-mount's command lines that cannot work are usage errors (exit
# status 2, one line) before anything is read: every mode's arguments, -u
# with anything but a mount point, more than one disk for --nbd.
set -euo pipefail
tool=$1/tools/virtsnap-mount
fail() { echo "mount-options: $*" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

usage_error() { # ARG...: exit 2 with one line on stderr naming the problem
    local status=0
    "$tool" "$@" >"$dir/out" 2>"$dir/err" || status=$?
    [ "$status" -eq 2 ] || fail "$* exited $status, not 2: $(cat "$dir/err")"
    [ "$(wc -l <"$dir/err")" -eq 1 ] || fail "$*: not one line: $(cat "$dir/err")"
    [ ! -s "$dir/out" ] || fail "$*: wrote to stdout"
}
usage_error                                        # nothing
usage_error "$dir"                                 # no mount point
usage_error "$dir" "$dir/m" extra                  # too many
usage_error "$dir" "$dir/m" --nbd "$dir/s"         # a mount point with --nbd
usage_error "$dir" --nbd ""                        # an empty socket path
usage_error "$dir" --nbd "$dir/s" -d vda -d vdb    # --nbd exports one disk
usage_error "$dir" "$dir/m" -d vda -d vda          # a disk twice
usage_error "$dir" "$dir/m" -d ../x                # not a disk target
usage_error "$dir" --until "" "$dir/m"             # --until without a value
usage_error --until latest                         # --until without a directory
usage_error -u                                     # -u without a mount point
usage_error -u "$dir/m" "$dir/n"                   # -u with two
usage_error -u "$dir/m" --force                    # -u with a mount's options
usage_error -u "$dir/m" -d vda
usage_error -u "$dir/m" --nbd "$dir/s"
usage_error -u "$dir/m" --until latest
grep -q "nothing is mounted" <("$tool" -u "$dir" 2>&1) || fail "-u on a plain directory"
[ ! -e "$dir/s" ] || fail "a usage error made the socket"
exit 0
