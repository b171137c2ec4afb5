#!/bin/bash
# usage: clang-tidy.sh BUILD_DIR
# Runs clang-tidy with the repository's .clang-tidy over every C++ source of
# libsnap/ and tools/ (their headers through its HeaderFilterRegex), with the
# compile commands of BUILD_DIR, and fails on any finding (WarningsAsErrors).
# A source missing from the compile commands fails too: it would otherwise
# go unchecked without anyone noticing.
set -euo pipefail
build=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
root=$(pwd)
tidy=$(command -v clang-tidy-14 || command -v clang-tidy) ||
    { echo "clang-tidy: clang-tidy is not installed" >&2; exit 1; }
[ -f "$build/compile_commands.json" ] || { echo "clang-tidy: no $build/compile_commands.json" >&2; exit 1; }

mapfile -t files < <(git ls-files --cached --others --exclude-standard 'libsnap/*.cpp' 'tools/*.cpp')
[ ${#files[@]} -gt 0 ] || { echo "clang-tidy: no sources found" >&2; exit 1; }
for file in "${files[@]}"; do
    grep -qF "\"file\": \"$root/$file\"" "$build/compile_commands.json" ||
        { echo "clang-tidy: $file is not in $build/compile_commands.json (re-run cmake)" >&2; exit 1; }
done

# One clang-tidy per file, two at a time (2 to 3 s each, mostly parsing);
# each one's output is kept whole and printed only when it found something.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$SECONDS
status=0
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -I{} sh -c \
    '"$1" -p "$2" --quiet "$3" >"$4/$(echo "$3" | tr / _).log" 2>&1 || { cat "$4/$(echo "$3" | tr / _).log"; exit 1; }' \
    sh "$tidy" "$build" {} "$out" || status=$?
[ "$status" -eq 0 ] || { echo "clang-tidy: findings above (.clang-tidy)" >&2; exit 1; }
echo "clang-tidy: ${#files[@]} files clean in $((SECONDS - start)) s"
