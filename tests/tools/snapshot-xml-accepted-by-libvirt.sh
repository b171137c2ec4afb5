#!/bin/bash
# The <domainsnapshot> libsnap builds is what real libvirt accepts for a
# quiesced, atomic, metadata-free disk-only snapshot of a qcow2 on a chain, a
# raw file with a space and non-ASCII letters in its path and a block device
# (whose overlay libvirt would refuse to name itself), with the cdrom left
# alone. Shallow active commits then bring every disk back to its exact chain
# and leave the shared base untouched.
. "$(dirname "$0")/../functions.sh"
tb_init

mkdir -p "$TB_DIR/overlays"
tb_mixed_domain snap
tb_wait_agent snap
base_sum=$(sha256sum <"$TB_BASE")
before=$(virsh_ domblklist snap --details)

"$TB_PROBE" snapshot-xml --id T1 --overlay-dir "$TB_DIR/overlays" snap >"$TB_DIR/snap.xml" ||
    tb_fail "virtsnap-probe snapshot-xml failed"
virsh_ snapshot-create snap "$TB_DIR/snap.xml" --disk-only --atomic --no-metadata --quiesce >/dev/null ||
    tb_fail "libvirt refused the snapshot XML: $(cat "$TB_DIR/snap.xml")"

source_of() { virsh_ domblklist snap --details | awk -v t="$1" '$3 == t { sub(/^[^\/]*/, ""); print }'; }
[ "$(source_of vda)" = "$TB_DIR/top.virtsnap-T1.vda.qcow2" ] || tb_fail "vda is on '$(source_of vda)'"
[ "$(source_of vdb)" = "$TB_DIR/dir with space é/data disk ü.virtsnap-T1.vdb.qcow2" ] || tb_fail "vdb is on '$(source_of vdb)'"
[ "$(source_of vdc)" = "$TB_DIR/overlays/$(basename "$TB_LOOP").virtsnap-T1.vdc.qcow2" ] || tb_fail "vdc is on '$(source_of vdc)'"
[ "$(source_of hdc)" = "$TB_DIR/cd.iso" ] || tb_fail "the cdrom was touched"
[ -z "$(virsh_ snapshot-list snap --name)" ] || tb_fail "the snapshot left metadata in libvirt"

for t in vda vdb vdc; do
    virsh_ blockcommit snap "$t" --active --pivot --shallow --wait >/dev/null || tb_fail "blockcommit of $t failed"
done
after=$(virsh_ domblklist snap --details)
[ "$after" = "$before" ] || tb_fail "disks after commit differ: $after"
rm -f "$TB_DIR/top.virtsnap-T1.vda.qcow2" "$TB_DIR/dir with space é/data disk ü.virtsnap-T1.vdb.qcow2" "$TB_DIR"/overlays/*
qemu-img info -U --backing-chain "$TB_TOP" | grep -q "^backing file: $TB_BASE\$" || tb_fail "vda's chain changed"
[ "$(sha256sum <"$TB_BASE")" = "$base_sum" ] || tb_fail "the base image changed"
grep -q 'virtsnap-T1' <<<"$(virsh_ dumpxml snap)" && tb_fail "the live definition still names an overlay"
tb_pass "libvirt took the snapshot from libsnap's XML and shallow commits restored every chain"
