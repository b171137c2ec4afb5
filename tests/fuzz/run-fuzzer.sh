#!/bin/bash
# usage: run-fuzzer.sh TARGET SEED_DIR SECONDS ARTIFACT_DIR
# Runs a libFuzzer target for SECONDS on its seeds. New corpus entries go to
# a temporary directory (libFuzzer writes into the first directory it is
# given), never into SEED_DIR, which is in the repository. A crash, leak,
# hang or memory blow-up fails; the input that caused it is kept in
# ARTIFACT_DIR and printed in base64, as CI keeps only the log.
set -euo pipefail
target=$1
seeds=$2
seconds=$3
artifacts=$4
name=$(basename "$target")
[ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ] || { echo "$name: no seeds in $seeds" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/tmp" "$artifacts"
rm -f "$artifacts/$name-"*

# -timeout: no input of a few KiB may take seconds, even under ASan.
# TMPDIR: what a target writes (the backup-set loader's files) goes with
# the run.
status=0
TMPDIR=$work/tmp UBSAN_OPTIONS=print_stacktrace=1 \
    "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$name-" "$work/corpus" "$seeds" || status=$?
if [ "$status" -ne 0 ]; then
    for input in "$artifacts/$name-"*; do
        [ -f "$input" ] || continue
        echo "$name: failing input $input (base64; reproduce with: $target FILE):" >&2
        base64 "$input" >&2
    done
    echo "$name: failed (libFuzzer exit status $status)" >&2
    exit 1
fi
echo "$name: $seconds s without a failure, corpus grown from $(ls "$seeds" | wc -l) to $(($(ls "$seeds" | wc -l) + $(ls "$work/corpus" | wc -l))) inputs"
