#!/bin/bash
# A shut-off domain is backed up offline: its images copied as they are, no
# snapshot, no overlays, the domain left shut off and unchanged. A start
# during that copy fails the set cleanly and leaves the running guest
# untouched. Bad input changes nothing: an unknown domain (DEST not even
# created), an unwritable destination, a bad --keep.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
tb_two_disk_domain vm
sleep 2
virsh_ shutdown vm --mode agent >/dev/null || tb_fail "cannot shut the guest down"
for _ in $(seq 1 60); do virsh_ domstate vm | grep -q 'shut off' && break; sleep 1; done
virsh_ domstate vm | grep -q 'shut off' || tb_fail "the guest did not shut down"
before=$(tb_sources vm --inactive)
sums=$(sha256sum "$TB_DIR/top.qcow2" "$TB_DIR/base.qcow2" "$TB_DIR/data.raw")

backup() { tb_tool backup --state-dir "$state" -o "$dest" "$@"; }

set=$(backup vm 2>"$TB_DIR/err") || tb_fail "the offline backup failed: $(cat "$TB_DIR/err")"
grep -q "offline (domain shut off)" "$TB_DIR/err" || tb_fail "the summary does not say offline: $(cat "$TB_DIR/err")"
grep -q 'offline="yes"' "$set/manifest.xml" || tb_fail "the manifest does not record an offline backup"
grep -q "<overlay" "$set/manifest.xml" && tb_fail "an offline manifest names an overlay"
[ -f "$set/complete" ] && [ -f "$set/domain.xml" ] || tb_fail "the offline set is incomplete: $(ls "$set")"
[ -f "$set/domain-live.xml" ] && tb_fail "a shut-off domain's set has a live definition"
qemu-img compare -q -f qcow2 -F qcow2 "$set/vda.qcow2" "$TB_DIR/top.qcow2" || tb_fail "vda's copy differs"
qemu-img compare -q -f qcow2 -F raw "$set/vdb.qcow2" "$TB_DIR/data.raw" || tb_fail "vdb's copy differs"
virsh_ domstate vm | grep -q 'shut off' || tb_fail "the offline backup started the domain"
[ "$(tb_sources vm --inactive)" = "$before" ] || tb_fail "the offline backup changed the definition"
[ "$(sha256sum "$TB_DIR/top.qcow2" "$TB_DIR/base.qcow2" "$TB_DIR/data.raw")" = "$sums" ] ||
    tb_fail "the offline backup changed an image"
ls "$TB_DIR"/*virtsnap* >/dev/null 2>&1 && tb_fail "an offline backup made overlays"
tb_tool verify -q "$set" >/dev/null || tb_fail "the offline set does not verify"

# Started in the middle of its offline backup: the set fails, the guest runs on.
tb_stop_at before-copy backup --state-dir "$state" -o "$dest" vm
virsh_ start vm >/dev/null || tb_fail "cannot start the domain during its backup"
kill -CONT "$TB_STOPPED_PID"
status=0
wait "$TB_STOPPED_PID" || status=$?
[ "$status" -eq 1 ] || tb_fail "a start during the offline backup: exit $status, expected 1: $(cat "$TB_DIR/stopped.err")"
grep -q "was started during its offline backup" "$TB_DIR/stopped.err" ||
    tb_fail "no clear error for a start during the offline backup: $(cat "$TB_DIR/stopped.err")"
[ "$(ls "$dest/vm")" = "$(basename "$set")" ] || tb_fail "the failed set was left: $(ls "$dest/vm")"
virsh_ domstate vm | grep -q running || tb_fail "the started guest does not run"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "the started guest is not on its own images: $(tb_sources vm)"
tb_wait_agent vm

# Bad input: one error line, a documented status, nothing changed.
tb_expect_error 1 "domain 'no-such-vm' not found" backup --state-dir "$state" -o "$TB_DIR/never" no-such-vm
[ -e "$TB_DIR/never" ] && tb_fail "an unknown domain created the destination"
mkdir "$TB_DIR/ro"
mount -t tmpfs -o ro,size=1m tmpfs "$TB_DIR/ro"
tb_expect_error 5 "not writable" backup --state-dir "$state" -o "$TB_DIR/ro" vm
tb_expect_error 2 "--keep must be" backup --state-dir "$state" --keep 0 -o "$dest" vm
tb_expect_error 2 "exclude each other" backup --state-dir "$state" --all -o "$dest" vm
[ "$(ls "$dest/vm")" = "$(basename "$set")" ] || tb_fail "bad input changed the sets: $(ls "$dest/vm")"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "bad input changed the domain"
ls "$TB_DIR"/*virtsnap* >/dev/null 2>&1 && tb_fail "bad input made overlays"
tb_pass "offline backups copy a shut-off domain as it is; a start during one fails it cleanly; bad input changes nothing"
