#!/bin/bash
# A virtsnap run killed with SIGKILL at each stage — after the journal but
# before the snapshot, after the snapshot (the manifest is out; a copy would
# be running), in the middle of a commit (QEMU's job keeps running without
# its client) — and a domain shut down while on its overlays: each time
# `virtsnap-commit --recover` brings the domain back to its original chains,
# live and persistent, removes the overlays and the record, loses no
# workload record, and a second --recover changes nothing. SIGTERM during
# create merges the snapshot back by itself.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
mkdir -p "$TB_DIR/overlays"
tb_mixed_domain vm
tb_wait_agent vm
uuid=$(virsh_ domuuid vm)
base_sum=$(sha256sum <"$TB_BASE")
live_before=$(tb_sources vm)
persistent_before=$(tb_sources vm --inactive)
create_args=(--state-dir "$state" --overlay-dir "$TB_DIR/overlays" vm)

# check_restored WHAT LAST_RECORD: back on the original chains, nothing left,
# every record up to LAST_RECORD still there.
check_restored() {
    local what=$1 floor=$2
    [ "$(tb_sources vm)" = "$live_before" ] || tb_fail "$what: live disks: $(tb_sources vm)"
    [ "$(tb_sources vm --inactive)" = "$persistent_before" ] || tb_fail "$what: persistent disks: $(tb_sources vm --inactive)"
    [ -z "$(find "$TB_DIR" -name '*.virtsnap-*')" ] || tb_fail "$what: overlays left: $(find "$TB_DIR" -name '*.virtsnap-*')"
    [ ! -e "$state/$uuid.state" ] || tb_fail "$what: the state record is left"
    [ -z "$(virsh_ blockjob vm vda 2>/dev/null | grep -v 'No current block job')" ] || tb_fail "$what: a block job is left"
    [ "$(sha256sum <"$TB_BASE")" = "$base_sum" ] || tb_fail "$what: the base image changed"
    local n
    if virsh_ domstate vm | grep -q running; then
        sleep 1
        virsh_ domfsfreeze vm >/dev/null || tb_fail "$what: fsfreeze failed"
        n=$(tb_gapless "$TB_RAW" raw)
        virsh_ domfsthaw vm >/dev/null
    else
        n=$(tb_gapless "$TB_RAW" raw)
    fi
    [ "$n" -ge "$floor" ] || tb_fail "$what: vdb ends at record $n, $floor had been written"
    tb_log "$what: restored; vdb holds records 1..$n"
}

recover_twice() {
    local what=$1
    tb_tool commit --state-dir "$state" --recover vm 2>"$TB_DIR/recover.err" ||
        tb_fail "$what: --recover failed: $(cat "$TB_DIR/recover.err")"
    tb_tool commit --state-dir "$state" --recover vm 2>"$TB_DIR/recover2.err" ||
        tb_fail "$what: a second --recover failed: $(cat "$TB_DIR/recover2.err")"
    grep -q "nothing to do" "$TB_DIR/recover2.err" || tb_fail "$what: second --recover: $(cat "$TB_DIR/recover2.err")"
}

# Killed after the journal, before the snapshot.
tb_kill_at before-snapshot create "${create_args[@]}"
[ -f "$state/$uuid.state" ] || tb_fail "before-snapshot: no state record written before the snapshot"
[ "$(tb_sources vm)" = "$live_before" ] || tb_fail "before-snapshot: the domain changed already"
recover_twice before-snapshot
check_restored before-snapshot 1

# Killed after the snapshot: the domain runs on the overlays.
tb_kill_at after-snapshot create "${create_args[@]}"
[ "$(tb_sources vm)" != "$live_before" ] || tb_fail "after-snapshot: the domain is not on overlays"
sleep 2
written=$(tb_last_record "$TB_DIR/overlays/data disk ü.virtsnap-"*.vdb.qcow2 qcow2)
recover_twice after-snapshot
check_restored after-snapshot "$written"

# Killed in the middle of the commit of vda: QEMU's job runs on.
tb_tool create "${create_args[@]}" >"$TB_DIR/m3" 2>/dev/null || tb_fail "create failed"
sleep 2
tb_kill_at commit-started commit --state-dir "$state" -m "$TB_DIR/m3"
virsh_ blockjob vm vda 2>&1 | grep -qi commit || tb_fail "mid-commit: no commit job running on vda after the kill"
written=$(tb_last_record "$TB_DIR/overlays/data disk ü.virtsnap-"*.vdb.qcow2 qcow2)
recover_twice mid-commit
check_restored mid-commit "$written"

# SIGTERM after the snapshot: create merges it back itself, exit 130.
tb_stop_at after-snapshot create "${create_args[@]}"
kill -TERM "$TB_STOPPED_PID"
kill -CONT "$TB_STOPPED_PID"
status=0
wait "$TB_STOPPED_PID" || status=$?
[ "$status" -eq 130 ] || tb_fail "SIGTERM: create exited $status: $(cat "$TB_DIR/stopped.err")"
[ ! -s "$TB_DIR/stopped.out" ] || tb_fail "SIGTERM: create printed a manifest"
check_restored sigterm 1

# The guest shuts down while on its overlays: an offline commit, a corrected
# persistent definition, and the domain boots again.
tb_tool create "${create_args[@]}" >/dev/null 2>&1 || tb_fail "create failed"
sleep 2
virsh_ shutdown --mode agent vm >/dev/null || tb_fail "shutdown through the agent failed"
for _ in $(seq 1 60); do virsh_ domstate vm | grep -q 'shut off' && break; sleep 1; done
virsh_ domstate vm | grep -q 'shut off' || tb_fail "the guest did not shut down"
grep -q '\.virtsnap-' <<<"$(virsh_ dumpxml --inactive vm)" || tb_log "note: libvirt already put the persistent definition back"
written=$(tb_last_record "$TB_DIR/overlays/data disk ü.virtsnap-"*.vdb.qcow2 qcow2)
recover_twice shut-off
live_before=$persistent_before # a shut-off domain shows its persistent disks
check_restored shut-off "$written"
virsh_ start vm >/dev/null || tb_fail "the domain does not start after the offline recovery"
tb_wait_agent vm
tb_pass "recovered after SIGKILL before/after the snapshot and mid-commit, after SIGTERM, and offline"
