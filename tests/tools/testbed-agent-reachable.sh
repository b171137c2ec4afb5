#!/bin/bash
# A guest boots on the test bed and its agent answers through libsnap's probe;
# the probe changes nothing (the domain stays running, untainted).
. "$(dirname "$0")/../functions.sh"
tb_init

tb_image "$TB_DIR/vda.qcow2" qcow2 64M vda
tb_disk_file vda "$TB_DIR/vda.qcow2" qcow2
start=$(date +%s%N)
tb_start_domain agent-up no-workload

# Poll libsnap's probe itself until the agent answers: this measures boot time.
answer=""
for _ in $(seq 1 180); do
    if answer=$("$TB_PROBE" agent --timeout 5000 agent-up); then
        break
    fi
    sleep 0.5
done
case $answer in
reachable*) ;;
*) tb_fail "the agent never answered: $answer" ;;
esac
boot_ms=$((($(date +%s%N) - start) / 1000000))
tb_log "guest booted and its agent answered after $boot_ms ms"

[ "$(virsh_ domstate agent-up)" = running ] || tb_fail "the domain is no longer running"
if grep -q taint <<<"$(virsh_ dumpxml agent-up)" || grep -q 'tainted' "/var/log/libvirt/qemu/agent-up.log" 2>/dev/null; then
    tb_fail "probing the agent tainted the domain"
fi
tb_pass "agent reachable ($answer), boot to agent $boot_ms ms"
