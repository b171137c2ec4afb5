#!/bin/bash
# An agent that is connected but never answers (qemu-ga stopped with SIGSTOP
# in the guest) does not hold the probe past its deadline: it reports
# unreachable after about --timeout, and the domain keeps running.
. "$(dirname "$0")/../functions.sh"
tb_init

tb_image "$TB_DIR/vda.qcow2" qcow2 64M vda
tb_disk_file vda "$TB_DIR/vda.qcow2" qcow2
tb_start_domain hung hung-agent no-workload
tb_wait_console hung "guest agent hung"
grep -q "name='org.qemu.guest_agent.0' state='connected'" <<<"$(virsh_ dumpxml hung)" ||
    tb_fail "libvirt does not see the hung agent's channel as connected; the test would not reach the deadline"

start=$(date +%s%N)
status=0
answer=$("$TB_PROBE" agent --timeout 1500 hung) || status=$?
elapsed=$((($(date +%s%N) - start) / 1000000))
tb_log "probe: exit $status after $elapsed ms: $answer"
[ "$status" -eq 1 ] || tb_fail "probe exited $status, expected 1"
case $answer in
"unreachable: "*"did not answer within 1500 ms"*) ;;
*) tb_fail "expected the deadline to fire, got: $answer" ;;
esac
# libvirt's own handshake timeout is 5 s: answering well before it proves the
# deadline is ours.
[ "$elapsed" -lt 4000 ] || tb_fail "the probe took $elapsed ms despite a 1500 ms deadline"
[ "$(virsh_ domstate hung)" = running ] || tb_fail "the domain is no longer running"
tb_pass "a hung agent is reported unreachable after $elapsed ms"
