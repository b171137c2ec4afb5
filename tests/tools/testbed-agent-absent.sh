#!/bin/bash
# The probe tells an absent agent apart from a present one: a guest booted
# without qemu-ga, a domain with no agent channel at all, and a shut-off
# domain are each reported unreachable with the reason, quickly.
. "$(dirname "$0")/../functions.sh"
tb_init

tb_image "$TB_DIR/a.qcow2" qcow2 64M vda
tb_disk_file vda "$TB_DIR/a.qcow2" qcow2
tb_start_domain no-agent no-agent no-workload
tb_image "$TB_DIR/b.qcow2" qcow2 64M vda
tb_disk_file vda "$TB_DIR/b.qcow2" qcow2
tb_start_domain no-channel no-agent-channel no-workload
tb_wait_console no-agent "guest agent disabled"

expect_unreachable() {
    local domain=$1 reason=$2 answer status=0
    answer=$("$TB_PROBE" agent --timeout 20000 "$domain") || status=$?
    [ "$status" -eq 1 ] || tb_fail "$domain: probe exited $status, expected 1 ($answer)"
    case $answer in
    "unreachable: "*"$reason"*) tb_log "$domain: $answer" ;;
    *) tb_fail "$domain: expected '$reason', got: $answer" ;;
    esac
}

expect_unreachable no-agent "is not connected"
expect_unreachable no-channel "has no guest agent channel"
virsh_ destroy no-agent >/dev/null
expect_unreachable no-agent "is not running"

# An unknown domain is an error naming it, exit status 1, one line.
status=0
err=$("$TB_PROBE" agent no-such-domain-virtsnap 2>&1) || status=$?
[ "$status" -eq 1 ] || tb_fail "unknown domain: exit $status"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || tb_fail "unknown domain: more than one line: $err"
case $err in
*"domain 'no-such-domain-virtsnap' not found"*) ;;
*) tb_fail "unknown domain: unexpected message: $err" ;;
esac
tb_pass "absent agents reported unreachable with their reasons"
