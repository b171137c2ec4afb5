#!/bin/bash
# usage: check-tool-options.sh TOOL MANPAGE POD
# The standard tests every tool gets: --help and --version exit 0 and print
# to stdout; the man page renders with man -l and has the standard sections;
# --help and the page's OPTIONS section name the same options, both ways:
# every option --help lists (long and short) is on an =item line of OPTIONS
# in the POD source, with the same short/long pairing, and every option an
# =item line names is one --help lists; a bad option is exit status 2 with
# one line. Every disagreement is reported before the test fails.
set -euo pipefail
tool=$1
page=$2
pod=$3
name=$(basename "$tool")
fail() { echo "check-tool-options: $name: $*" >&2; exit 1; }
problems=()
problem() { problems+=("$*"); }

help=$("$tool" --help) || fail "--help exited non-zero"
version=$("$tool" --version) || fail "--version exited non-zero"
case $version in "$name (virtsnap) "*) ;; *) fail "--version printed '$version'" ;; esac

[ -f "$page" ] || fail "no man page $page"
[ -f "$pod" ] || fail "no POD source $pod"
rendered=$(MANWIDTH=200 man -l "$page" 2>/dev/null | col -b) || fail "man -l cannot render $page"
for section in NAME SYNOPSIS DESCRIPTION EXAMPLES OPTIONS "EXIT STATUS"; do
    grep -q "^$section" <<<"$rendered" || fail "the man page has no $section section"
done

# Every long option --help mentions (its option table and its usage lines)
# is in the rendered page, as a whole word. (grep reads here-strings: with
# pipefail, grep -q leaving a pipe early would fail the writer with SIGPIPE.)
while IFS= read -r option; do
    grep -qE -- "(^|[^[:alnum:]-])$option([^[:alnum:]-]|\$)" <<<"$rendered" ||
        problem "$option is in --help but not in the man page"
done < <(grep -o -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u)

# The option table of --help (Boost.Program_options: two spaces, then
# "-x [ --long ] ARG", "--long ARG" or "-x ARG"): long -> its short form
# (empty when none), and the short forms on their own.
declare -A help_short=() help_has_short=()
while IFS= read -r line; do
    if [[ $line =~ ^\ \ (-[A-Za-z0-9])\ \[\ (--[a-z0-9][a-z0-9-]*)\ \] ]]; then
        help_short[${BASH_REMATCH[2]}]=${BASH_REMATCH[1]}
        help_has_short[${BASH_REMATCH[1]}]=1
    elif [[ $line =~ ^\ \ (--[a-z0-9][a-z0-9-]*) ]]; then
        help_short[${BASH_REMATCH[1]}]=
    elif [[ $line =~ ^\ \ (-[A-Za-z0-9])([[:space:]]|$) ]]; then
        help_has_short[${BASH_REMATCH[1]}]=1
    fi
done <<<"$help"
[ "${#help_short[@]}" -gt 0 ] || fail "found no option table in --help"

# The =item lines of the OPTIONS section of the POD source, e.g.
# "=item B<-c> I<URI>, B<--connect> I<URI>": the options each names.
items=$(awk '/^=head1 /{in_options = ($0 == "=head1 OPTIONS")} in_options && /^=item /' "$pod")
[ -n "$items" ] || fail "$pod has no =item in its OPTIONS section"
declare -A page_short=() page_has_short=()
while IFS= read -r item; do
    longs=$(grep -oE 'B<--[a-z0-9][a-z0-9-]*>' <<<"$item" | sed 's/^B<//; s/>$//' || true)
    shorts=$(grep -oE 'B<-[A-Za-z0-9]>' <<<"$item" | sed 's/^B<//; s/>$//' || true)
    [ -n "$longs$shorts" ] || continue
    [ "$(grep -c . <<<"$shorts")" -le 1 ] || problem "one =item names two short options: $item"
    short=${shorts%%$'\n'*}
    for option in $shorts; do
        page_has_short[$option]=1
        [ -n "${help_has_short[$option]:-}" ] || problem "$option is on an =item line of $pod but not in --help"
    done
    for option in $longs; do
        page_short[$option]=$short
        if [ -z "${help_short[$option]+set}" ]; then
            problem "$option is on an =item line of $pod but not in --help"
        elif [ "${help_short[$option]}" != "$short" ]; then
            problem "$option is ${help_short[$option]:-without a short form} in --help but ${short:-without a short form} in $pod: $item"
        fi
    done
done <<<"$items"

# And the other way: every option of --help has its =item.
for option in "${!help_short[@]}"; do
    [ -n "${page_short[$option]+set}" ] || problem "$option is in --help but on no =item line of OPTIONS in $pod"
done
for option in "${!help_has_short[@]}"; do
    [ -n "${page_has_short[$option]:-}" ] || problem "$option is in --help but on no =item line of OPTIONS in $pod"
done

if [ "${#problems[@]}" -gt 0 ]; then
    for p in "${problems[@]}"; do echo "check-tool-options: $name: $p" >&2; done
    fail "--help and the man page disagree (${#problems[@]} problem(s) above)"
fi

status=0
err=$("$tool" --no-such-option 2>&1 >/dev/null) || status=$?
[ "$status" -eq 2 ] || fail "a bad option exited $status, expected 2"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "a bad option printed more than one line: $err"
echo "check-tool-options: $name: --help, --version, man page and usage errors agree"
