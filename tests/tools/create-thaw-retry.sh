#!/bin/bash
# A thaw that fails is retried until the guest is thawed, within
# --thaw-timeout; one that never succeeds ends the run with exit 7, one line
# naming the domain and 'virsh domfsthaw', and the snapshot merged back (a
# guest that may be frozen is the first thing to hear about). The guests'
# agents report their first thaws as failed (their fsfreeze hook fails
# after the filesystems are thawed).
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
tb_image "$TB_DIR/twice.qcow2" qcow2 64M vda
tb_disk_file vda "$TB_DIR/twice.qcow2" qcow2
tb_start_domain twice thaw-fails=2
tb_image "$TB_DIR/never.qcow2" qcow2 64M vda
tb_disk_file vda "$TB_DIR/never.qcow2" qcow2
tb_start_domain never thaw-fails
tb_wait_agent twice
tb_wait_agent never
before=$(tb_sources never)

# Two failed thaws, then one that works: a quiesced snapshot, exit 0.
tb_tool create --state-dir "$state" twice >"$TB_DIR/m" 2>"$TB_DIR/err" ||
    tb_fail "create with two failing thaws failed: $(cat "$TB_DIR/err")"
grep -q "thawing the filesystems of domain 'twice' failed" "$TB_DIR/err" || tb_fail "no warning for the failed thaw: $(cat "$TB_DIR/err")"
grep -q "thawed at attempt 3" "$TB_DIR/err" || tb_fail "the thaw was not retried to success: $(cat "$TB_DIR/err")"
grep -q 'quiesced="yes"' "$TB_DIR/m" || tb_fail "the snapshot is not quiesced"
tb_tool commit -q --state-dir "$state" <"$TB_DIR/m" || tb_fail "commit after a retried thaw failed"

# expect_frozen TEXT TOOL ARGS: exit 7, nothing on stdout, one error line
# saying TEXT (after the warnings about each failed thaw).
expect_frozen() {
    local text=$1 status=0
    shift
    tb_tool "$@" >"$TB_DIR/out" 2>"$TB_DIR/err" || status=$?
    [ "$status" -eq 7 ] || tb_fail "$*: exit $status, expected 7: $(cat "$TB_DIR/err")"
    [ -s "$TB_DIR/out" ] && tb_fail "$*: printed on stdout: $(cat "$TB_DIR/out")"
    [ "$(grep -c "^virtsnap-[a-z]*: error: " "$TB_DIR/err")" -eq 1 ] || tb_fail "$*: not one error line: $(cat "$TB_DIR/err")"
    grep "^virtsnap-[a-z]*: error: " "$TB_DIR/err" | grep -q -- "$text" || tb_fail "$*: the error does not say '$text': $(cat "$TB_DIR/err")"
}

# Every thaw fails: exit 7, one line, the snapshot merged back, no record left.
start=$SECONDS
expect_frozen "did not confirm a thaw within 3 s.*virsh domfsthaw never" \
    create --state-dir "$state" --thaw-timeout 3s never
[ $((SECONDS - start)) -lt 60 ] || tb_fail "the bounded thaw took $((SECONDS - start)) s"
[ "$(tb_sources never)" = "$before" ] || tb_fail "the domain was left on $(tb_sources never)"
ls "$TB_DIR"/*virtsnap* >/dev/null 2>&1 && tb_fail "overlays left: $(ls "$TB_DIR"/*virtsnap*)"
ls "$state"/*.state >/dev/null 2>&1 && tb_fail "a state record is left"
# The same through virtsnap-backup: exit 7, no set.
expect_frozen "virsh domfsthaw never" backup --state-dir "$state" --thaw-timeout 2s -o "$TB_DIR/sets" never
[ -z "$(ls -A "$TB_DIR/sets/never" 2>/dev/null)" ] || tb_fail "a set was left: $(ls -A "$TB_DIR/sets/never")"
[ "$(tb_sources never)" = "$before" ] || tb_fail "the backup left the domain on $(tb_sources never)"
tb_pass "failed thaws are retried until they work; one that never does ends the run with exit 7 and the domain on its chain"
