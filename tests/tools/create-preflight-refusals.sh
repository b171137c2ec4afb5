#!/bin/bash
# virtsnap-create refuses, before any change and with one error line and its
# documented status, everything it cannot do safely: an unknown --disk, a
# block device without --overlay-dir, an overlay directory that is missing,
# read-only or short of space (stating the figure), a domain locked by
# another run, one with an unfinished run, one already on an overlay, and a
# domain that is not running.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
tb_image "$TB_DIR/disk.qcow2" qcow2 32M vda
tb_image "$TB_DIR/block.img" raw 32M vdb
loop=$(tb_loop "$TB_DIR/block.img")
tb_disk_file vda "$TB_DIR/disk.qcow2" qcow2
tb_disk_block vdb "$loop"
# Mounted before the guest starts: QEMU may run in a mount namespace that
# does not see later mounts. "small" is short of the 64 MiB an overlay may
# need, yet holds what the guest's workload writes while --overlay-space
# puts overlays there (at 1 MiB, QEMU paused the guest on ENOSPC, and the
# later steps failed on a paused domain).
mkdir -p "$TB_DIR/ov" "$TB_DIR/small" "$TB_DIR/ro"
mount -t tmpfs -o size=16M,mode=755 tmpfs "$TB_DIR/small" || tb_skip "cannot mount a tmpfs"
mount -t tmpfs -o ro,size=1M tmpfs "$TB_DIR/ro"
tb_start_domain vm
tb_wait_agent vm
uuid=$(virsh_ domuuid vm)
before=$(tb_sources vm)

# refused STATUS PATTERN CREATE_ARGS...: exit STATUS, one error line matching
# PATTERN, no manifest, domain untouched.
refused() {
    local expected=$1 pattern=$2 status=0
    shift 2
    tb_tool create "$@" >"$TB_DIR/out" 2>"$TB_DIR/err" || status=$?
    [ "$status" -eq "$expected" ] || tb_fail "create $*: exit $status, expected $expected: $(cat "$TB_DIR/err")"
    [ "$(grep -c 'error:' "$TB_DIR/err")" -eq 1 ] && grep -q -- "$pattern" "$TB_DIR/err" ||
        tb_fail "create $*: expected one error matching '$pattern': $(cat "$TB_DIR/err")"
    [ ! -s "$TB_DIR/out" ] || tb_fail "create $*: printed a manifest"
    [ "$(tb_sources vm)" = "$before" ] || tb_fail "create $*: the domain changed"
    tb_log "create $*: $(grep 'error:' "$TB_DIR/err")"
}
no_record() { [ ! -e "$state/$uuid.state" ] || tb_fail "$1: a state record was left"; }

refused 2 "has no such disk" --state-dir "$state" --overlay-dir "$TB_DIR/ov" --disk vdz vm
refused 2 "block device; name a directory" --state-dir "$state" vm
refused 2 "no domain given" --state-dir "$state"
refused 5 "does not exist" --state-dir "$state" --overlay-dir "$TB_DIR/missing" vm
refused 5 "is not writable" --state-dir "$state" --overlay-dir "$TB_DIR/ro" vm
refused 5 "MiB free, less than the 64 MiB" --state-dir "$state" --overlay-dir "$TB_DIR/small" vm
no_record preflight
# --overlay-space states the figure; the check then passes (and the snapshot is undone).
tb_tool create --state-dir "$state" --overlay-dir "$TB_DIR/small" --overlay-space 512K vm >"$TB_DIR/m" ||
    tb_fail "--overlay-space 512K was not honoured"
tb_tool commit --state-dir "$state" -m "$TB_DIR/m" || tb_fail "commit failed"

# Another run holds the lock.
tb_stop_at before-snapshot create --state-dir "$state" --overlay-dir "$TB_DIR/ov" vm
holder=$TB_STOPPED_PID
refused 5 "pid $holder" --state-dir "$state" --overlay-dir "$TB_DIR/ov" vm
kill -KILL "$holder"
wait "$holder" 2>/dev/null || true
# Its record is left: the next create points at --recover.
refused 5 "commit --recover vm" --state-dir "$state" --overlay-dir "$TB_DIR/ov" vm
tb_tool commit --state-dir "$state" --recover vm 2>/dev/null || tb_fail "recover failed"
no_record recover

# On an overlay made with another state directory.
tb_tool create --state-dir "$TB_DIR/other-state" --overlay-dir "$TB_DIR/ov" vm >"$TB_DIR/m" || tb_fail "create failed"
before=$(tb_sources vm)
refused 5 "already on a virtsnap overlay" --state-dir "$state" --overlay-dir "$TB_DIR/ov" vm
status=0
tb_tool commit --state-dir "$state" --recover vm 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 5 ] && grep -q "holds no state record" "$TB_DIR/err" || tb_fail "recover with the wrong state dir: $status $(cat "$TB_DIR/err")"
tb_tool commit --state-dir "$TB_DIR/other-state" -m "$TB_DIR/m" || tb_fail "commit failed"
before=$(tb_sources vm)

virsh_ destroy vm >/dev/null
before=$(tb_sources vm)
refused 5 "is not running" --state-dir "$state" --overlay-dir "$TB_DIR/ov" vm
no_record end
tb_pass "every preflight refusal changed nothing"
