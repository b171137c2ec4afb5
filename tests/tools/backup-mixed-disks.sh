#!/bin/bash
# virtsnap-backup and virtsnap-restore on the standard mixed domain (qcow2 on
# a chain, a raw file with a space and non-ASCII letters in its path, a loop
# block device standing for an LVM volume, a cdrom): every disk but the
# cdrom is in the set at one instant, the block device's content included;
# the domain ends on its chains; a restore gives each disk back in its own
# format with a definition that libvirt accepts.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
mkdir -p "$TB_DIR/overlays"
tb_mixed_domain vm
tb_wait_agent vm
before=$(tb_sources vm)
base_sum=$(sha256sum <"$TB_BASE")
sleep 2

# A block device needs an overlay directory; without one: a usage error (2), nothing changed.
status=0
tb_tool backup --state-dir "$state" -o "$dest" vm >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 2 ] || tb_fail "a block device without --overlay-dir: exit $status, expected 2: $(cat "$TB_DIR/err" | tr "\n" " ")"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "a refused backup changed the domain"
[ -z "$(ls -A "$dest/vm" 2>/dev/null)" ] || tb_fail "a refused backup left a set: $(ls -A "$dest/vm")"

set=$(tb_tool backup --state-dir "$state" --overlay-dir "$TB_DIR/overlays" -o "$dest" vm 2>"$TB_DIR/err") ||
    tb_fail "the backup failed: $(cat "$TB_DIR/err")"
grep -q "disk 'hdc' skipped: " "$TB_DIR/err" || tb_fail "the cdrom was not reported as skipped: $(cat "$TB_DIR/err")"
for f in vda.qcow2 vdb.qcow2 vdc.qcow2; do [ -f "$set/$f" ] || tb_fail "the set lacks $f: $(ls "$set")"; done
[ -e "$set/hdc.qcow2" ] && tb_fail "the cdrom was backed up"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "not back on the original chains: $(tb_sources vm)"
[ "$(sha256sum <"$TB_BASE")" = "$base_sum" ] || tb_fail "the shared base changed"
[ -z "$(ls -A "$TB_DIR/overlays")" ] || tb_fail "overlays left: $(ls -A "$TB_DIR/overlays")"
a=$(tb_gapless "$set/vda.qcow2" qcow2)
b=$(tb_gapless "$set/vdb.qcow2" qcow2)
c=$(tb_gapless "$set/vdc.qcow2" qcow2)
for n in "$b" "$c"; do
    [ $((a - n)) -le 1 ] && [ $((n - a)) -le 1 ] || tb_fail "the set's disks are not one instant: $a $b $c"
done
tb_log "set at records $a/$b/$c"

out="$TB_DIR/restored"
tb_tool restore -q "$set" -o "$out" >"$TB_DIR/paths" || tb_fail "the restore failed"
for f in vda.qcow2 vdb.raw vdc.raw domain.xml; do [ -f "$out/$f" ] || tb_fail "the restore lacks $f: $(ls "$out")"; done
[ "$(tb_gapless "$out/vdc.raw" raw)" -eq "$c" ] || tb_fail "the block device's restored content differs"
# The definition points at the restored files (the block device became a
# file) and keeps the cdrom as it was.
xml="$out/domain.xml"
grep -q "$(realpath "$out")/vdc.raw" "$xml" || tb_fail "domain.xml does not point vdc at its restored file"
grep -A3 "<disk type=\"file\" device=\"disk\">" "$xml" | grep -q "vdc.raw" || tb_fail "vdc is not a file disk in domain.xml"
grep -q "cd.iso" "$xml" || tb_fail "domain.xml lost the cdrom"
sed "s|<name>vm</name>|<name>vm-check</name>|; /<uuid>/d" "$xml" >"$TB_DIR/check.xml"
TB_DOMAINS+=(vm-check)
virsh_ define "$TB_DIR/check.xml" >/dev/null || tb_fail "libvirt does not accept the restored definition"
tb_pass "a mixed domain (chain, odd path, block device, cdrom) backs up at one instant and restores in its own formats"
