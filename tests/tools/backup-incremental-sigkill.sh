#!/bin/bash
# An incremental killed (SIGKILL) at every pause point of its run, each
# followed by 'virtsnap-commit --recover': the domain keeps running on one
# kept overlay per disk, the change record names a complete set whose chain
# verifies, no incomplete set or stray overlay is left, and the next inc
# builds on it. The domain has a block device, so its overlays live under
# --overlay-dir, as they must for an incremental on a block device. At the
# end the last set restores with a gapless workload log that grew.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
overlays="$TB_DIR/overlays"
mkdir "$overlays"
tb_image "$TB_DIR/vda.qcow2" qcow2 128M vda
tb_image "$TB_DIR/block.img" raw 64M vdb
loop=$(tb_loop "$TB_DIR/block.img")
tb_disk_file vda "$TB_DIR/vda.qcow2" qcow2
tb_disk_block vdb "$loop"
tb_start_domain vm
tb_wait_agent vm
uuid=$(virsh_ domuuid vm)

backup() { tb_tool backup --state-dir "$state" -o "$dest" --overlay-dir "$overlays" "$@" vm; }
level_of() { xmllint --xpath 'string(/virtsnap-manifest/level/@kind)' "$1/manifest.xml"; }
record_set() { xmllint --xpath 'string(/*/chain/@set)' "$state/$uuid.tracking" 2>/dev/null; }
# The state a recovery must leave: tracked, on one kept overlay per disk
# (under --overlay-dir), both named after the record's set, which is
# complete and verifies with its chain; no incomplete set, no other overlay.
check_tracked() { # WHEN
    local id
    id=$(record_set)
    [ -n "$id" ] && [ -f "$dest/vm/$id/complete" ] || tb_fail "$1: the change record names '$id', not a complete set"
    [ "$(virsh_ domstate vm)" = running ] || tb_fail "$1: the domain is $(virsh_ domstate vm)"
    tb_sources vm | grep -q "^vda $overlays/vda.virtsnap-$id.vda.qcow2$" || tb_fail "$1: vda is on $(tb_sources vm)"
    tb_sources vm | grep -q "^vdb $overlays/.*virtsnap-$id.vdb.qcow2$" || tb_fail "$1: vdb is on $(tb_sources vm)"
    [ "$(find "$TB_DIR" "$overlays" -maxdepth 1 -name '*.virtsnap-*' | wc -l)" -eq 2 ] ||
        tb_fail "$1: overlays: $(find "$TB_DIR" "$overlays" -maxdepth 1 -name '*.virtsnap-*')"
    for set in "$dest/vm"/*; do
        [ -f "$set/complete" ] || tb_fail "$1: an incomplete set is left: $set"
    done
    tb_tool verify -q --chain "$dest/vm/$id" >/dev/null 2>"$TB_DIR/err" || tb_fail "$1: the record's set does not verify: $(cat "$TB_DIR/err")"
    virsh_ domfsinfo vm >/dev/null 2>&1 || tb_fail "$1: the guest agent does not answer (frozen?)"
}

first=$(backup --level full 2>"$TB_DIR/err") || tb_fail "the full failed: $(cat "$TB_DIR/err")"
check_tracked "after the full"
sleep 1
backup --level inc >/dev/null 2>"$TB_DIR/err" || tb_fail "the first inc failed: $(cat "$TB_DIR/err")"
check_tracked "after an inc"
for point in before-snapshot after-snapshot before-copy disk-copied before-complete before-commit \
    change-record-saved merge-below-started; do
    sleep 1
    tb_kill_at "$point" backup --state-dir "$state" -o "$dest" --overlay-dir "$overlays" --level inc vm
    tb_tool commit --state-dir "$state" --recover vm 2>"$TB_DIR/err" || tb_fail "--recover after a kill at $point: $(cat "$TB_DIR/err")"
    check_tracked "killed at $point"
    tb_log "killed at $point: recovered onto set $(record_set)"
done
sleep 1
last=$(backup --level inc 2>"$TB_DIR/err") || tb_fail "the inc after the kills failed: $(cat "$TB_DIR/err")"
[ "$(level_of "$last")" = inc ] || tb_fail "the inc after the kills is a $(level_of "$last"): $(cat "$TB_DIR/err")"
check_tracked "after the last inc"
tb_tool restore -q "$last" -o "$TB_DIR/restored" >/dev/null 2>"$TB_DIR/err" || tb_fail "restoring the last inc: $(cat "$TB_DIR/err")"
before=$(tb_gapless "$first/vda.qcow2" qcow2)
after=$(tb_gapless "$TB_DIR/restored/vda.qcow2" qcow2)
[ "$after" -gt "$before" ] || tb_fail "the last set holds $after workload records, the full $before"
tb_tool commit --state-dir "$state" --end-tracking vm 2>"$TB_DIR/err" || tb_fail "--end-tracking: $(cat "$TB_DIR/err")"
[ "$(tb_sources vm)" = "$(printf 'vda %s\nvdb %s' "$TB_DIR/vda.qcow2" "$loop")" ] || tb_fail "after --end-tracking: $(tb_sources vm)"
[ -z "$(find "$TB_DIR" "$overlays" -maxdepth 1 -name '*.virtsnap-*')" ] || tb_fail "overlays left at the end"
# A change record damaged, then one lost: a backup says what to do, and
# --end-tracking finds the kept overlays from the domain's definition.
backup --level full >/dev/null 2>"$TB_DIR/err" || tb_fail "a full after --end-tracking: $(cat "$TB_DIR/err")"
printf 'not a record' >"$state/$uuid.tracking"
status=0
backup --level inc >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -ne 0 ] && grep -q "end-tracking" "$TB_DIR/err" || tb_fail "an inc on a damaged record: exit $status: $(cat "$TB_DIR/err")"
tb_tool commit --state-dir "$state" --end-tracking vm 2>"$TB_DIR/err" || tb_fail "--end-tracking of a damaged record: $(cat "$TB_DIR/err")"
[ "$(tb_sources vm)" = "$(printf 'vda %s\nvdb %s' "$TB_DIR/vda.qcow2" "$loop")" ] || tb_fail "after --end-tracking of a damaged record: $(tb_sources vm)"
[ -f "$state/$uuid.tracking" ] && tb_fail "the damaged record is still there"
backup --level full >/dev/null 2>"$TB_DIR/err" || tb_fail "a full after that: $(cat "$TB_DIR/err")"
rm "$state/$uuid.tracking"
tb_tool commit --state-dir "$state" --end-tracking vm 2>"$TB_DIR/err" || tb_fail "--end-tracking of a lost record: $(cat "$TB_DIR/err")"
[ "$(tb_sources vm)" = "$(printf 'vda %s\nvdb %s' "$TB_DIR/vda.qcow2" "$loop")" ] || tb_fail "after --end-tracking of a lost record: $(tb_sources vm)"
[ -z "$(find "$TB_DIR" "$overlays" -maxdepth 1 -name '*.virtsnap-*')" ] || tb_fail "overlays left after --end-tracking without a record"
tb_pass "an inc killed at each of 8 pause points is recovered onto a complete, verified set, tracked, with a block device's overlay under --overlay-dir; the chain restores and grew; --end-tracking without a usable record"
