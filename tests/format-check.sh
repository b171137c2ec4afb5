#!/bin/bash
# Fails when any C++ file differs from what clang-format makes of it with the
# project's .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "format-check: clang-format is not installed" >&2; exit 1; }
files=$(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp')
[ -n "$files" ] || { echo "format-check: no C++ files found" >&2; exit 1; }
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files
echo "format-check: $(echo "$files" | wc -l) files formatted"
