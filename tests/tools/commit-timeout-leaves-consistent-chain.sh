#!/bin/bash
# A commit that cannot converge within --timeout (here: 16 MiB of fresh
# guest data, --bandwidth 1 MiB/s, --timeout 2s) is cancelled with a clear
# error and exit status 1, and leaves the domain on its overlay — a
# consistent chain that holds every write — with the state record kept.
# --recover then finishes the merge with nothing lost.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
tb_image "$TB_DIR/disk.qcow2" qcow2 64M vda
tb_disk_file vda "$TB_DIR/disk.qcow2" qcow2
tb_start_domain vm
tb_wait_agent vm
tb_tool create -q --state-dir "$state" vm >"$TB_DIR/m" || tb_fail "create failed"
overlay=$(sed -n 's/.*<overlay path="\([^"]*\)".*/\1/p' "$TB_DIR/m")

# 16 MiB the commit will have to copy, written by the guest onto the overlay.
virsh_ qemu-agent-command vm '{"execute":"guest-exec","arguments":{"path":"/bin/dd","arg":["if=/dev/urandom","of=/mnt/vda/big","bs=1M","count=16","conv=fsync"]}}' >/dev/null ||
    tb_fail "guest-exec of dd failed"
for _ in $(seq 1 60); do
    [ "$(qemu-img info -U --output=json "$overlay" | sed -n 's/.*"actual-size": \([0-9]*\).*/\1/p')" -gt $((16 << 20)) ] && break
    sleep 1
done

status=0
tb_tool commit --state-dir "$state" --bandwidth 1 --timeout 2s -m "$TB_DIR/m" 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 1 ] || tb_fail "commit exited $status, expected 1: $(cat "$TB_DIR/err")"
grep -q "did not converge within 2 s and was cancelled" "$TB_DIR/err" || tb_fail "unclear error: $(cat "$TB_DIR/err")"
[ "$(tb_sources vm)" = "vda $overlay" ] || tb_fail "the domain is not on its overlay: $(tb_sources vm)"
[ -f "$state/$(virsh_ domuuid vm).state" ] || tb_fail "the state record is gone"
virsh_ blockjob vm vda 2>&1 | grep -qi commit && tb_fail "the commit job was left running"
tb_log "$(cat "$TB_DIR/err")"

sleep 1
written=$(tb_last_record "$overlay" qcow2)
tb_tool commit --state-dir "$state" --recover vm 2>"$TB_DIR/err" || tb_fail "recover failed: $(cat "$TB_DIR/err")"
[ "$(tb_sources vm)" = "vda $TB_DIR/disk.qcow2" ] || tb_fail "not back on the image"
[ ! -e "$overlay" ] || tb_fail "the overlay is left"
virsh_ domfsfreeze vm >/dev/null
n=$(tb_gapless "$TB_DIR/disk.qcow2" qcow2)
[ "$(tb_guest_file "$TB_DIR/disk.qcow2" qcow2 /big | wc -c)" -eq $((16 << 20)) ] || tb_fail "the 16 MiB file did not survive"
virsh_ domfsthaw vm >/dev/null
[ "$n" -ge "$written" ] || tb_fail "records lost: $n < $written"
tb_pass "a commit beyond --timeout was cancelled onto a consistent chain; --recover finished it"
