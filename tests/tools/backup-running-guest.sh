#!/bin/bash
# virtsnap-backup on the running test guest with its workload: one run makes
# a complete set (manifest, both definitions, one image per disk, the marker)
# holding one instant across disks, and leaves the guest on its original
# chains, each copy hashed as QEMU maps it (or with --verify-with source
# compared with its frozen image); a second backup of the domain while one
# runs is refused; --keep 2
# after five sets keeps the newest two.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
tb_two_disk_domain vm
base_sum=$(sha256sum <"$TB_DIR/base.qcow2")
before=$(tb_sources vm)
before_inactive=$(tb_sources vm --inactive)
sleep 3

backup() { tb_tool backup --state-dir "$state" -o "$dest" "$@"; }

set=$(backup vm 2>"$TB_DIR/err") || tb_fail "the backup failed: $(cat "$TB_DIR/err")"
[ "$set" = "$(realpath "$dest")/vm/$(basename "$set")" ] || tb_fail "stdout is not the set directory: $set"
for f in manifest.xml domain.xml domain-live.xml vda.qcow2 vdb.qcow2 complete; do
    [ -f "$set/$f" ] || tb_fail "the set lacks $f: $(ls "$set")"
done
[ "$(stat -c %a "$set")" = 700 ] || tb_fail "the set directory is not private"
[ "$(stat -c %a "$set/vda.qcow2")" = 600 ] || tb_fail "an image in the set is not private"
grep -q "quiesced, frozen for" "$TB_DIR/err" || tb_fail "no summary with the freeze window: $(cat "$TB_DIR/err")"
grep -q "verified as QEMU maps it against the checksums of the source" "$TB_DIR/err" ||
    tb_fail "the summary does not say it verified: $(cat "$TB_DIR/err")"
[ "$(grep -c 'kind="qemu-checksums" result="ok"' "$set/manifest.xml")" -eq 2 ] ||
    tb_fail "the set's manifest does not record both disks hashed as QEMU maps them: $(cat "$set/manifest.xml")"
grep -q 'kind="source"' "$set/manifest.xml" && tb_fail "a flattened copy was compared with its source by default"
grep -q "$TB_DIR/top.qcow2" "$set/domain-live.xml" || tb_fail "the live definition was taken after the snapshot"
grep -q "\.virtsnap-" "$set/domain.xml" && tb_fail "the saved persistent definition names an overlay"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "not back on the original chains: $(tb_sources vm)"
[ "$(tb_sources vm --inactive)" = "$before_inactive" ] || tb_fail "the persistent definition changed"
[ "$(sha256sum <"$TB_DIR/base.qcow2")" = "$base_sum" ] || tb_fail "the base image changed"
ls "$TB_DIR"/*virtsnap* >/dev/null 2>&1 && tb_fail "overlays left: $(ls "$TB_DIR"/*virtsnap*)"
tb_tool verify -q "$set" >/dev/null || tb_fail "the set does not verify from its checksums"
a=$(tb_gapless "$set/vda.qcow2" qcow2)
b=$(tb_gapless "$set/vdb.qcow2" qcow2)
[ $((a - b)) -le 1 ] && [ $((b - a)) -le 1 ] || tb_fail "the set's disks are not one instant: $a vs $b"
[ "$a" -gt 0 ] || tb_fail "the set holds no workload record"
tb_log "set $(basename "$set"): records $a/$b"

# A second backup while one holds the domain: refused, nothing changed.
tb_stop_at before-copy backup --state-dir "$state" -o "$dest" vm
status=0
backup vm >/dev/null 2>"$TB_DIR/err2" || status=$?
[ "$status" -eq 5 ] || tb_fail "a concurrent backup exited $status, expected 5: $(cat "$TB_DIR/err2")"
grep -q "pid $TB_STOPPED_PID" "$TB_DIR/err2" || tb_fail "the refusal does not name the holder: $(cat "$TB_DIR/err2")"
kill -CONT "$TB_STOPPED_PID"
wait "$TB_STOPPED_PID" || tb_fail "the first backup failed after the refused one: $(cat "$TB_DIR/stopped.err")"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "not back on the original chains after two runs"

# Retention: five complete sets, then --keep 2 leaves the newest two.
backup -q vm >/dev/null || tb_fail "a backup for retention failed"
# --verify-with source: each copy compared with its frozen image instead.
compared=$(backup --verify-with source vm 2>"$TB_DIR/err") || tb_fail "--verify-with source failed: $(cat "$TB_DIR/err")"
grep -q "verified against the source" "$TB_DIR/err" || tb_fail "--verify-with source: wrong summary: $(cat "$TB_DIR/err")"
[ "$(grep -c 'kind="source" result="ok"' "$compared/manifest.xml")" -eq 2 ] ||
    tb_fail "--verify-with source: not both disks compared: $(cat "$compared/manifest.xml")"
grep -q 'kind="qemu-checksums"' "$compared/manifest.xml" && tb_fail "--verify-with source also hashed as QEMU maps"
all=$(ls "$dest/vm")
[ "$(echo "$all" | wc -l)" -eq 4 ] || tb_fail "expected 4 sets, found: $all"
newest=$(backup -q --keep 2 vm) || tb_fail "the backup with --keep 2 failed"
left=$(ls "$dest/vm")
expected=$(printf '%s\n%s\n' "$(echo "$all" | tail -n 1)" "$(basename "$newest")")
[ "$left" = "$expected" ] || tb_fail "--keep 2 left $(echo $left), expected $(echo $expected)"
tb_tool verify -q "$newest" >/dev/null || tb_fail "the newest set does not verify after retention"

# virtsnap-list: both kept sets, plus what a dead run and a damaged set look like.
mkdir -m 700 "$dest/vm/29991231-235959-999-dead"
mkdir -m 700 "$dest/vm/29991231-235959-999-damd"
echo x >"$dest/vm/29991231-235959-999-damd/complete"
echo "<not a manifest" >"$dest/vm/29991231-235959-999-damd/manifest.xml"
tb_tool list "$dest" >"$TB_DIR/list" || tb_fail "virtsnap-list failed"
[ "$(wc -l <"$TB_DIR/list")" -eq 5 ] || tb_fail "virtsnap-list: expected a header and 4 sets: $(cat "$TB_DIR/list")"
head -n 1 "$TB_DIR/list" | grep -q "DOMAIN *SET *TIME *TYPE *DISKS *SIZE *QUIESCED *FREEZE *VERIFIED *STATE" ||
    tb_fail "virtsnap-list: no header: $(head -n 1 "$TB_DIR/list")"
grep "$(basename "$newest")" "$TB_DIR/list" | grep -q "full *vda,vdb .* yes .* ms *ok *complete" ||
    tb_fail "virtsnap-list: the newest set's line is wrong: $(cat "$TB_DIR/list")"
grep -q "999-dead .* incomplete" "$TB_DIR/list" || tb_fail "virtsnap-list: no incomplete set: $(cat "$TB_DIR/list")"
grep -q "999-damd .* damaged: " "$TB_DIR/list" || tb_fail "virtsnap-list: no damaged set: $(cat "$TB_DIR/list")"
tb_tool list --json "$dest" vm >"$TB_DIR/list.json" || tb_fail "virtsnap-list --json failed"
[ "$(jq -r --arg id "$(basename "$newest")" '.[] | select(.set == $id) | [.state, .type, (.disks | join(",")), .quiesced, .verified, (.freeze_ms > 0), (.allocated_bytes > 0), .path] | join(" ")' "$TB_DIR/list.json")" =   "complete full vda,vdb true ok true true $newest" ] || tb_fail "virtsnap-list --json: $(cat "$TB_DIR/list.json")"
[ "$(jq -r '[.[] | .state] | join(" ")' "$TB_DIR/list.json")" = "complete complete damaged incomplete" ] ||
    tb_fail "virtsnap-list --json: states in the wrong order: $(cat "$TB_DIR/list.json")"
status=0
tb_tool list "$TB_DIR/nowhere" >/dev/null 2>&1 || status=$?
[ "$status" -eq 3 ] || tb_fail "virtsnap-list of a missing DEST: exit $status, expected 3"
# virtsnap-list --summary, a monitoring check: WARNING for the damaged set,
# OK without it, CRITICAL once the newest set is older than --max-age.
summary() { # EXPECTED_STATUS OPTIONS...
    local expected=$1 status=0
    shift
    tb_tool list --summary "$@" >"$TB_DIR/summary" 2>&1 || status=$?
    [ "$status" -eq "$expected" ] || tb_fail "virtsnap-list --summary $*: exit $status, expected $expected: $(cat "$TB_DIR/summary")"
}
summary 1 --max-age 1h "$dest"
head -n 1 "$TB_DIR/summary" | grep -qx "VIRTSNAP WARNING: vm: 1 damaged set(s)" ||
    tb_fail "virtsnap-list --summary: wrong status line: $(cat "$TB_DIR/summary")"
rm -rf "$dest/vm/29991231-235959-999-dead" "$dest/vm/29991231-235959-999-damd"
summary 0 --max-age 1h "$dest"
head -n 1 "$TB_DIR/summary" | grep -qx "VIRTSNAP OK: 1 domain(s), each with a complete backup set younger than 1h 00m" ||
    tb_fail "virtsnap-list --summary: wrong status line: $(cat "$TB_DIR/summary")"
grep -q "^vm  *$(basename "$newest")  *[0-9][0-9ms ]*  2  .*  ok\$" "$TB_DIR/summary" ||
    tb_fail "virtsnap-list --summary: wrong row: $(cat "$TB_DIR/summary")"
summary 0 --json "$dest"
[ "$(jq -r '[.status, .domains[0].newest_set, .domains[0].complete_sets, (.domains[0].allocated_bytes > 0)] | join(" ")' "$TB_DIR/summary")" = "ok $(basename "$newest") 2 true" ] ||
    tb_fail "virtsnap-list --summary --json: $(cat "$TB_DIR/summary")"
sleep 2
summary 2 --max-age 1s "$dest" vm
head -n 1 "$TB_DIR/summary" | grep -q "^VIRTSNAP CRITICAL: vm: the newest complete set is [0-9][0-9ms ]* old, more than --max-age 1s\$" ||
    tb_fail "virtsnap-list --summary --max-age 1s: $(cat "$TB_DIR/summary")"
summary 2 --max-age 1h "$TB_DIR/state"
grep -q "VIRTSNAP CRITICAL: no backup sets" "$TB_DIR/summary" || tb_fail "virtsnap-list --summary of no sets: $(cat "$TB_DIR/summary")"
summary 2 --max-age 1h --bogus "$dest"
tb_pass "a backup set is complete, one instant across disks, the guest back on its chains; concurrency refused; --keep works"
