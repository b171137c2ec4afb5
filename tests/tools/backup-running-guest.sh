#!/bin/bash
# virtsnap-backup on the running test guest with its workload: one run makes
# a complete set (manifest, both definitions, one image per disk, the marker)
# holding one instant across disks, and leaves the guest on its original
# chains; a second backup of the domain while one runs is refused; --keep 2
# after five sets keeps the newest two.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
tb_image "$TB_DIR/base.qcow2" qcow2 256M vda
tb_image "$TB_DIR/top.qcow2" qcow2 256M vda "$TB_DIR/base.qcow2" qcow2
tb_image "$TB_DIR/data.raw" raw 128M vdb
tb_disk_file vda "$TB_DIR/top.qcow2" qcow2
tb_disk_file vdb "$TB_DIR/data.raw" raw
tb_start_domain vm
tb_wait_agent vm
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
grep -q "verified against the source" "$TB_DIR/err" || tb_fail "the summary does not say it verified"
grep -q 'kind="source" result="ok"' "$set/manifest.xml" || tb_fail "the set's manifest records no source verification"
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
for _ in 1 2; do backup -q vm >/dev/null || tb_fail "a backup for retention failed"; done
all=$(ls "$dest/vm")
[ "$(echo "$all" | wc -l)" -eq 4 ] || tb_fail "expected 4 sets, found: $all"
newest=$(backup -q --keep 2 vm) || tb_fail "the backup with --keep 2 failed"
left=$(ls "$dest/vm")
expected=$(printf '%s\n%s\n' "$(echo "$all" | tail -n 1)" "$(basename "$newest")")
[ "$left" = "$expected" ] || tb_fail "--keep 2 left $(echo $left), expected $(echo $expected)"
tb_tool verify -q "$newest" >/dev/null || tb_fail "the newest set does not verify after retention"
tb_pass "a backup set is complete, one instant across disks, the guest back on its chains; concurrency refused; --keep works"
