#!/bin/bash
# --quiesce=auto|require|off against a guest whose agent answers, one without
# an agent and one whose agent hangs, and --freeze-timeout shorter than any
# freeze: auto falls back to a crash-consistent snapshot and says so in the
# manifest; require fails with exit status 5 and leaves the domain exactly as
# it was (no overlay, no state record); the guest is always thawed.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
one_disk_domain() {
    local name=$1
    shift
    tb_image "$TB_DIR/$name.qcow2" qcow2 32M vda
    tb_disk_file vda "$TB_DIR/$name.qcow2" qcow2
    tb_start_domain "$name" "$@"
}
one_disk_domain agent
one_disk_domain noagent no-agent
one_disk_domain hung hung-agent
tb_wait_agent agent
tb_wait_console noagent "virtsnap-guest: ready"
tb_wait_console hung "virtsnap-guest: ready"

# expect_untouched NAME WHAT: no overlay, no record, disk on its image.
expect_untouched() {
    [ "$(tb_sources "$1")" = "vda $TB_DIR/$1.qcow2" ] || tb_fail "$2: the domain changed: $(tb_sources "$1")"
    [ -z "$(find "$TB_DIR" -name '*.virtsnap-*')" ] || tb_fail "$2: an overlay was left"
    [ ! -e "$state/$(virsh_ domuuid "$1").state" ] || tb_fail "$2: a state record was left"
}

# snapshot_and_commit NAME EXPECTED_QUIESCED CREATE_OPTIONS...
snapshot_and_commit() {
    local name=$1 expected=$2
    shift 2
    tb_tool create --state-dir "$state" "$@" "$name" >"$TB_DIR/m" 2>"$TB_DIR/err" ||
        tb_fail "$name $*: create failed: $(cat "$TB_DIR/err")"
    grep -q "quiesced=\"$expected\"" "$TB_DIR/m" || tb_fail "$name $*: expected quiesced=$expected: $(cat "$TB_DIR/m")"
    if [ "$expected" = no ] && [ "$*" != "--quiesce=off" ]; then
        grep -q "warning: .*crash-consistent" "$TB_DIR/err" || tb_fail "$name $*: no warning: $(cat "$TB_DIR/err")"
    fi
    tb_tool commit --state-dir "$state" <"$TB_DIR/m" 2>"$TB_DIR/err" || tb_fail "$name $*: commit failed: $(cat "$TB_DIR/err")"
    expect_untouched "$name" "$name $* after commit"
}

# require_refused NAME CREATE_OPTIONS...
require_refused() {
    local name=$1 status=0
    shift
    tb_tool create --state-dir "$state" --quiesce=require "$@" "$name" >"$TB_DIR/m" 2>"$TB_DIR/err" || status=$?
    [ "$status" -eq 5 ] || tb_fail "$name require $*: exit status $status, expected 5: $(cat "$TB_DIR/err")"
    [ "$(grep -c 'error:' "$TB_DIR/err")" -eq 1 ] || tb_fail "$name require $*: not one error line: $(cat "$TB_DIR/err")"
    grep -q "merged into" "$TB_DIR/err" && tb_fail "$name require $*: a snapshot was taken and merged back"
    [ ! -s "$TB_DIR/m" ] || tb_fail "$name require $*: a manifest was printed"
    expect_untouched "$name" "$name require $*"
    tb_log "$name require $*: $(cat "$TB_DIR/err")"
}

snapshot_and_commit agent yes --quiesce=require
snapshot_and_commit agent no --quiesce=off
snapshot_and_commit noagent no
snapshot_and_commit hung no --agent-timeout 2s
require_refused noagent
require_refused hung --agent-timeout 2s

# A freeze can never finish within 1 ms: auto thaws and goes on without
# quiesce, require puts everything back.
snapshot_and_commit agent no --freeze-timeout 1ms
require_refused agent --freeze-timeout 1ms
# The guest is thawed: the agent freezes and thaws again on request, and
# the workload goes on writing.
before=$(tb_last_record "$TB_DIR/agent.qcow2" qcow2)
sleep 2
after=$(tb_last_record "$TB_DIR/agent.qcow2" qcow2)
[ "$after" -gt "$before" ] || tb_fail "the guest stays frozen: the workload stopped at record $before"
virsh_ domfsfreeze agent >/dev/null && virsh_ domfsthaw agent >/dev/null || tb_fail "the agent is wedged after the freeze timeout"
tb_pass "auto, require and off behave with an answering, absent and hung agent and a freeze timeout"
