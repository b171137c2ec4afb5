#!/bin/bash
# The pipeline virtsnap-create | virtsnap-copy | virtsnap-verify |
# virtsnap-commit on the running test guest with its workload: the guest
# ends on its original chains with every workload record, and the backup
# holds the frozen point in time (its workload log is a clean sequence that
# the live disk continues). Then the same pipeline with a copy that fails
# (destination full): commit still merges, the pipeline reports the failure.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
tb_two_disk_domain vm
base_sum=$(sha256sum <"$TB_DIR/base.qcow2")
before=$(tb_sources vm)
sleep 3

pipeline() {
    local dest=$1
    tb_tool create -q --state-dir "$state" vm |
        tb_tool copy -q -o "$dest" |
        tb_tool verify -q |
        tb_tool commit -q --state-dir "$state"
}
pipeline "$TB_DIR/backup" 2>"$TB_DIR/err" || tb_fail "the pipeline failed: $(cat "$TB_DIR/err")"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "not back on the original chains: $(tb_sources vm)"
[ "$(sha256sum <"$TB_DIR/base.qcow2")" = "$base_sum" ] || tb_fail "the base image changed"
ls "$TB_DIR"/*virtsnap* >/dev/null 2>&1 && tb_fail "overlays left: $(ls "$TB_DIR"/*virtsnap*)"
grep -q 'result="ok"' "$TB_DIR/backup/manifest.xml" && tb_fail "the stored manifest claims a verification it did not have"
tb_tool verify -q "$TB_DIR/backup" >/dev/null || tb_fail "the stored backup does not verify"

# The backup is a point in time the live disks continue, on every disk.
a=$(tb_gapless "$TB_DIR/backup/vda.qcow2" qcow2)
b=$(tb_gapless "$TB_DIR/backup/vdb.qcow2" qcow2)
[ $((a - b)) -le 1 ] && [ $((b - a)) -le 1 ] || tb_fail "the disks' backups are not one instant: $a vs $b"
sleep 2
virsh_ domfsfreeze vm >/dev/null
live=$(tb_gapless "$TB_DIR/top.qcow2" qcow2)
virsh_ domfsthaw vm >/dev/null
[ "$live" -gt "$a" ] || tb_fail "the live log ($live) does not continue the backup ($a)"
tb_log "backup at record $a/$b, live at $live"

# A copy that fails: the overlays are merged all the same; non-zero status.
mkdir "$TB_DIR/small"
mount -t tmpfs -o size=256k tmpfs "$TB_DIR/small"
status=0
pipeline "$TB_DIR/small" 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 6 ] || tb_fail "a pipeline whose copy failed exited $status, expected 6 (commit's): $(cat "$TB_DIR/err")"
grep -q "No space left" "$TB_DIR/err" || tb_fail "the copy's error is missing: $(cat "$TB_DIR/err")"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "after a failed copy the domain is not back: $(tb_sources vm)"
ls "$TB_DIR"/*virtsnap* >/dev/null 2>&1 && tb_fail "overlays left after a failed copy"
[ -z "$(ls -A "$TB_DIR/small")" ] || tb_fail "partial files left: $(ls -A "$TB_DIR/small")"
sleep 1
virsh_ domfsfreeze vm >/dev/null
after=$(tb_gapless "$TB_DIR/top.qcow2" qcow2)
virsh_ domfsthaw vm >/dev/null
[ "$after" -gt "$live" ] || tb_fail "records lost: $after <= $live"
tb_pass "pipeline backups are one instant across disks; a failed copy still ends on the original chains"
