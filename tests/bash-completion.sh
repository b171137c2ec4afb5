#!/bin/bash
# usage: bash-completion.sh BUILD_DIR
# The bash completion offers each tool's options as its --help lists them
# (all of them, nothing else), the values of the options that have a fixed
# set, domain names from libvirt (the test:/// driver's, as a user's would
# come from theirs) and directories where a path goes.
set -euo pipefail
build=$1
fail() { echo "bash-completion: $*" >&2; exit 1; }
command -v virsh >/dev/null || { echo "bash-completion: no virsh" >&2; exit 77; }
. "$(dirname "$0")/../completion/virtsnap"

complete_words() { # WORD... : COMPREPLY for the last word, one per line
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    _virtsnap "$build/tools/$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort
}

for tool in create commit copy verify backup list restore mount; do
    expected=$("$build/tools/virtsnap-$tool" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
    [ "$(complete_words "virtsnap-$tool" --)" = "$expected" ] || fail "virtsnap-$tool: -- offers $(complete_words "virtsnap-$tool" -- | paste -sd' ')"
done
[ "$(complete_words virtsnap-backup --metr)" = "--metrics-file" ] || fail "--metr: $(complete_words virtsnap-backup --metr)"
[ "$(complete_words virtsnap-backup --quiesce r)" = "require" ] || fail "--quiesce r: $(complete_words virtsnap-backup --quiesce r)"
[ "$(complete_words virtsnap-backup --verify-with q)" = "qemu-checksums" ] || fail "--verify-with q"
[ "$(complete_words virtsnap-backup -c test:///default t)" = "test" ] || fail "a domain: $(complete_words virtsnap-backup -c test:///default t)"
[ "$(complete_words virtsnap-commit --connect=test:///default --recover t)" = "test" ] || fail "--recover's domain"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/sets" "$dir/sets2"
touch "$dir/setsfile"
[ "$(complete_words virtsnap-list "$dir/set")" = "$(printf '%s\n' "$dir/sets" "$dir/sets2")" ] || fail "a directory: $(complete_words virtsnap-list "$dir/set")"
[ "$(complete_words virtsnap-backup --config "$dir/setsf")" = "$dir/setsfile" ] || fail "a file for --config"
# --until: the set ids in the domain directory given (directories only, not
# links or other names), and latest.
mkdir "$dir/sets/20261101-000000-000-0001" "$dir/sets/20261102-000000-000-abcd" "$dir/sets/not-a-set"
ln -s "$dir/sets/20261101-000000-000-0001" "$dir/sets/20261103-000000-000-0003"
touch "$dir/sets/20261104-000000-000-0004"
[ "$(complete_words virtsnap-restore -o "$dir/out" "$dir/sets" --until "")" = "$(printf '%s\n' 20261101-000000-000-0001 20261102-000000-000-abcd latest)" ] ||
    fail "--until: $(complete_words virtsnap-restore -o "$dir/out" "$dir/sets" --until "" | paste -sd' ')"
[ "$(complete_words virtsnap-restore --until latest "$dir/set")" = "$(printf '%s\n' "$dir/sets" "$dir/sets2")" ] ||
    fail "a directory after --until: $(complete_words virtsnap-restore --until latest "$dir/set" | paste -sd' ')"
[ "$(complete_words virtsnap-restore "$dir/sets" --until 202611)" = "$(printf '%s\n' 20261101-000000-000-0001 20261102-000000-000-abcd)" ] ||
    fail "--until 202611: $(complete_words virtsnap-restore "$dir/sets" --until 202611 | paste -sd' ')"
echo "bash-completion: options, values, domains and paths complete"
