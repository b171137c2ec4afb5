#!/bin/bash
# virtsnap-backup --all backs up every domain of the connection, running and
# shut off, one after another; one that fails (a network disk it cannot
# back up) does not stop the others, the exit status says some failed (6)
# and the summary names it.
. "$(dirname "$0")/../functions.sh"
tb_init

others=$(virsh_ list --all --name | grep -v '^$' || true)
[ -z "$others" ] || tb_skip "this host has other domains ($others); --all would back them up too"

state="$TB_DIR/state"
dest="$TB_DIR/backups"
tb_image "$TB_DIR/run.qcow2" qcow2 64M vda
tb_disk_file vda "$TB_DIR/run.qcow2" qcow2
tb_start_domain running
tb_image "$TB_DIR/off.raw" raw 64M vda
tb_disk_file vda "$TB_DIR/off.raw" raw
tb_start_domain shutoff no-workload
virsh_ destroy shutoff >/dev/null
# A domain whose only disk is a network disk: refused, so its backup fails.
cat >"$TB_DIR/netdisk.xml" <<XML
<domain type='qemu'><name>netdisk</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
<disk type='network' device='disk'><driver name='qemu' type='raw'/>
<source protocol='nbd' name='export'><host name='192.0.2.1' port='10809'/></source><target dev='vda' bus='virtio'/></disk>
</devices></domain>
XML
TB_DOMAINS+=(netdisk)
virsh_ define "$TB_DIR/netdisk.xml" >/dev/null || tb_fail "cannot define the network-disk domain"
tb_wait_agent running

status=0
tb_tool backup --state-dir "$state" --all -o "$dest" >"$TB_DIR/out" 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 6 ] || tb_fail "--all with one failing domain: exit $status, expected 6: $(cat "$TB_DIR/err")"
grep -q "3 domain(s): 2 backed up, 1 failed" "$TB_DIR/err" || tb_fail "no summary: $(cat "$TB_DIR/err")"
grep -q "failed: netdisk" "$TB_DIR/err" || tb_fail "the summary does not name the failed domain: $(cat "$TB_DIR/err")"
[ "$(wc -l <"$TB_DIR/out")" -eq 2 ] || tb_fail "expected two sets on stdout: $(cat "$TB_DIR/out")"
for dom in running shutoff; do
    set=$(grep "/$dom/" "$TB_DIR/out") || tb_fail "no set for $dom: $(cat "$TB_DIR/out")"
    [ -f "$set/complete" ] || tb_fail "the set of $dom is incomplete"
done
grep -q 'offline="yes"' "$(grep /shutoff/ "$TB_DIR/out")/manifest.xml" || tb_fail "the shut-off domain was not backed up offline"
[ -e "$dest/netdisk" ] && [ -n "$(ls -A "$dest/netdisk")" ] && tb_fail "the failed domain left a set"
virsh_ domstate running | grep -q running || tb_fail "the running domain stopped"
ls "$TB_DIR"/*virtsnap* >/dev/null 2>&1 && tb_fail "overlays left"
tb_pass "--all backs up running and shut-off domains and names the one that failed"
