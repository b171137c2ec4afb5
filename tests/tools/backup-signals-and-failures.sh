#!/bin/bash
# virtsnap-backup ends with the domain on its original chains whatever
# happens: SIGTERM during the snapshot, the copy and the commit; SIGKILL
# after the snapshot, during the copy and in the middle of the commit (the
# next virtsnap-backup finishes the dead run and says so); a copy damaged
# after it was written (found by the comparison, exit 4); a destination
# that fills up; the guest destroyed in the middle of the copy (the overlays
# are merged offline, the persistent definition names the original images
# and the domain starts again). No workload record is lost, and no
# incomplete set is left behind.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
tb_two_disk_domain vm
before=$(tb_sources vm)
before_inactive=$(tb_sources vm --inactive)
sleep 2
last=0

backup() { tb_tool backup --state-dir "$state" -o "$dest" "$@"; }

# The domain is on its chains, no overlay or state record is left, only
# complete sets exist, and the workload log grew without a gap.
check_clean() {
    local what=$1
    [ "$(tb_sources vm)" = "$before" ] || tb_fail "$what: not on the original chains: $(tb_sources vm)"
    [ "$(tb_sources vm --inactive)" = "$before_inactive" ] || tb_fail "$what: the persistent definition changed"
    ls "$TB_DIR"/*virtsnap* >/dev/null 2>&1 && tb_fail "$what: overlays left: $(ls "$TB_DIR"/*virtsnap*)"
    ls "$state"/*.state >/dev/null 2>&1 && tb_fail "$what: a state record is left"
    local set
    for set in "$dest"/vm/*/; do
        [ -d "$set" ] || continue
        [ -f "$set/complete" ] || tb_fail "$what: an incomplete set is left: $set"
    done
    if virsh_ domstate vm | grep -q running; then
        sleep 1
        virsh_ domfsfreeze vm >/dev/null || tb_fail "$what: cannot freeze the guest to read its log"
        local now
        now=$(tb_gapless "$TB_DIR/top.qcow2" qcow2)
        virsh_ domfsthaw vm >/dev/null
        [ "$now" -gt "$last" ] || tb_fail "$what: workload records lost ($now after $last)"
        last=$now
    fi
    tb_log "$what: clean (record $last)"
}

sets() {
    if [ -d "$dest/vm" ]; then find "$dest/vm" -mindepth 1 -maxdepth 1 -type d | wc -l; else echo 0; fi
}

# SIGTERM at three stages: the snapshot is merged back, the set discarded
# (or, once the set is complete, the commit finished first); exit 130.
for point in after-snapshot before-copy before-commit; do
    n=$(sets)
    tb_stop_at "$point" backup --state-dir "$state" -o "$dest" vm
    kill -TERM "$TB_STOPPED_PID"
    kill -CONT "$TB_STOPPED_PID"
    status=0
    wait "$TB_STOPPED_PID" || status=$?
    [ "$status" -eq 130 ] || tb_fail "SIGTERM at $point: exit $status, expected 130: $(cat "$TB_DIR/stopped.err")"
    if [ "$point" = before-commit ]; then
        [ "$(sets)" -eq $((n + 1)) ] || tb_fail "SIGTERM at $point: the complete set was not kept"
    else
        [ "$(sets)" -eq "$n" ] || tb_fail "SIGTERM at $point: a set was left: $(ls "$dest/vm")"
    fi
    check_clean "SIGTERM at $point"
done

# SIGKILL at three stages: the next backup finishes the dead run first.
for point in before-snapshot before-copy before-complete commit-started; do
    tb_kill_at "$point" backup --state-dir "$state" -o "$dest" vm
    backup vm >/dev/null 2>"$TB_DIR/err" || tb_fail "the backup after SIGKILL at $point failed: $(cat "$TB_DIR/err")"
    grep -q "finishing an earlier unfinished run" "$TB_DIR/err" ||
        tb_fail "the backup after SIGKILL at $point did not say it recovered: $(cat "$TB_DIR/err")"
    if [ "$point" != commit-started ]; then
        grep -q "removing the incomplete backup set" "$TB_DIR/err" ||
            tb_fail "the dead run's incomplete set was not removed: $(cat "$TB_DIR/err")"
    fi
    check_clean "SIGKILL at $point"
done

# A copy damaged on the destination after it was written: the verification
# (made while the next disk is copied) finds it, exit 4 naming the disk, the
# set is discarded and the overlays merged. By default the copy is hashed as
# QEMU maps it; with --verify-with source it is compared with its frozen
# image.
for mode in qemu-checksums source; do
    n=$(sets)
    with=()
    [ "$mode" = qemu-checksums ] || with=(--verify-with "$mode")
    tb_stop_at disk-copied backup --state-dir "$state" -o "$dest" "${with[@]}" vm
    copied=""
    for set in "$dest"/vm/*/; do
        [ -f "$set/complete" ] || copied=$(find "$set" -name '*.qcow2' | head -n 1)
    done
    [ -n "$copied" ] || tb_fail "$mode: no copied disk at disk-copied: $(find "$dest/vm")"
    # A byte of the first data cluster (the writer puts data right after the
    # header cluster), inverted.
    offset=$((65536 + 1000))
    byte=$(od -An -tu1 -j "$offset" -N 1 "$copied" | tr -d ' ')
    printf "\\$(printf %o $((byte ^ 255)))" | dd of="$copied" bs=1 seek="$offset" conv=notrunc status=none
    # The second disk's copy may stop at the same point: let it go on each time.
    for _ in $(seq 1 600); do
        case $(ps -o stat= -p "$TB_STOPPED_PID" 2>/dev/null) in
        "" | Z*) break ;;
        T*) kill -CONT "$TB_STOPPED_PID" ;;
        esac
        sleep 0.1
    done
    status=0
    wait "$TB_STOPPED_PID" || status=$?
    [ "$status" -eq 4 ] || tb_fail "$mode: a damaged copy: exit $status, expected 4: $(cat "$TB_DIR/stopped.err")"
    target=$(basename "$copied" .qcow2)
    if [ "$mode" = source ]; then
        found="disk '$target'.*differs from the frozen image"
    else
        found="disk '$target': as QEMU maps it: checksum mismatch: 1 damaged chunk"
    fi
    grep -q "$found" "$TB_DIR/stopped.err" ||
        tb_fail "$mode: a damaged copy: the error does not name disk $target: $(cat "$TB_DIR/stopped.err")"
    [ "$(sets)" -eq "$n" ] || tb_fail "$mode: a damaged copy: the set was kept: $(ls "$dest/vm")"
    check_clean "damaged copy ($mode)"
done

# A destination that fills up.
mkdir "$TB_DIR/small"
mount -t tmpfs -o size=256k tmpfs "$TB_DIR/small"
status=0
tb_tool backup --state-dir "$state" -o "$TB_DIR/small" vm >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 1 ] || tb_fail "a full destination: exit $status, expected 1: $(cat "$TB_DIR/err")"
grep -q "No space left" "$TB_DIR/err" || tb_fail "a full destination: no clear error: $(cat "$TB_DIR/err")"
[ -z "$(ls -A "$TB_DIR/small/vm")" ] || tb_fail "a full destination: files left: $(ls -A "$TB_DIR/small/vm")"
check_clean "full destination"

# The guest destroyed in the middle of the copy.
n=$(sets)
tb_stop_at before-copy backup --state-dir "$state" -o "$dest" vm
virsh_ destroy vm >/dev/null || tb_fail "cannot destroy the guest"
kill -CONT "$TB_STOPPED_PID"
status=0
wait "$TB_STOPPED_PID" || status=$?
[ "$status" -eq 0 ] || tb_fail "a guest destroyed mid-copy: exit $status: $(cat "$TB_DIR/stopped.err")"
[ "$(sets)" -eq $((n + 1)) ] || tb_fail "a guest destroyed mid-copy: no set"
[ "$(tb_sources vm --inactive)" = "$before_inactive" ] ||
    tb_fail "after a destroy mid-copy the definition names $(tb_sources vm --inactive)"
check_clean "destroyed mid-copy"
# Every record synced before the destroy is on the merged image.
now=$(tb_gapless "$TB_DIR/top.qcow2" qcow2)
[ "$now" -ge "$last" ] || tb_fail "after a destroy mid-copy records are lost ($now after $last)"
virsh_ start vm >/dev/null || tb_fail "the domain does not start after a destroy mid-copy"
tb_wait_agent vm
[ "$(tb_sources vm)" = "$before" ] || tb_fail "the restarted domain is not on its original chains"
tb_pass "SIGTERM, SIGKILL, a full destination and a destroyed guest all end on the original chains with no record lost"
