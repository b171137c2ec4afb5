#!/bin/bash
# The guest workload writes numbered records to every disk in lockstep and
# they reach the images: the host reads growing logs that agree across disks.
. "$(dirname "$0")/../functions.sh"
tb_init

tb_image "$TB_DIR/a.qcow2" qcow2 64M vda
tb_image "$TB_DIR/b.raw" raw 64M vdb
tb_disk_file vda "$TB_DIR/a.qcow2" qcow2
tb_disk_file vdb "$TB_DIR/b.raw" raw
tb_start_domain workload
tb_wait_agent workload

# Freeze the guest so both disks hold the same instant, then read them.
sleep 3
virsh_ domfsfreeze workload >/dev/null || tb_fail "fsfreeze failed"
a1=$(tb_last_record "$TB_DIR/a.qcow2" qcow2)
b1=$(tb_last_record "$TB_DIR/b.raw" raw)
virsh_ domfsthaw workload >/dev/null || tb_fail "fsthaw failed"
tb_log "records while frozen: vda=$a1 vdb=$b1"
[ "$a1" -gt 0 ] || tb_fail "no workload record reached vda"
diff=$((a1 - b1))
[ "${diff#-}" -le 1 ] || tb_fail "disks disagree while frozen: vda=$a1 vdb=$b1"

sleep 3
a2=$(tb_last_record "$TB_DIR/a.qcow2" qcow2)
[ "$a2" -gt "$a1" ] || tb_fail "the workload stopped after the thaw ($a1 -> $a2)"

# Records are consecutive from 1: nothing skipped, nothing duplicated.
tb_guest_file "$TB_DIR/b.raw" raw /workload.log |
    awk '$1 == "record" { if ($2 != NR) { print "gap at line " NR ": " $0; exit 1 } }' ||
    tb_fail "the workload log on vdb is not a clean sequence"
tb_pass "workload in lockstep: frozen at vda=$a1 vdb=$b1, later vda=$a2"
