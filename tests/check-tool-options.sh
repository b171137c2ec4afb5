#!/bin/bash
# usage: check-tool-options.sh TOOL MANPAGE
# The standard tests every tool gets: --help and --version exit 0 and print
# to stdout; every long option --help lists is documented in the man page,
# which renders with man -l; a bad option is exit status 2 with one line.
set -euo pipefail
tool=$1
page=$2
name=$(basename "$tool")
fail() { echo "check-tool-options: $name: $*" >&2; exit 1; }

help=$("$tool" --help) || fail "--help exited non-zero"
version=$("$tool" --version) || fail "--version exited non-zero"
case $version in "$name (virtsnap) "*) ;; *) fail "--version printed '$version'" ;; esac

[ -f "$page" ] || fail "no man page $page"
rendered=$(MANWIDTH=200 man -l "$page" 2>/dev/null | col -b) || fail "man -l cannot render $page"
for section in NAME SYNOPSIS DESCRIPTION EXAMPLES OPTIONS "EXIT STATUS"; do
    grep -q "^$section" <<<"$rendered" || fail "the man page has no $section section"
done
options=$(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
for option in $options; do
    grep -q -- "$option" <<<"$rendered" || fail "option $option is in --help but not in the man page"
done

status=0
err=$("$tool" --no-such-option 2>&1 >/dev/null) || status=$?
[ "$status" -eq 2 ] || fail "a bad option exited $status, expected 2"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "a bad option printed more than one line: $err"
echo "check-tool-options: $name: --help, --version, man page and usage errors agree"
