#!/bin/bash
# libsnap's disk model of a running 4-disk domain — qcow2 on a backing chain,
# raw with a space and a non-ASCII letter in its path, a block device (loop),
# a cdrom — matches what virsh domblklist --details and qemu-img info say.
. "$(dirname "$0")/../functions.sh"
tb_init

tb_mixed_domain model no-workload
tb_wait_agent model

model=$("$TB_PROBE" disks model) || tb_fail "virtsnap-probe disks failed"
printf '%s\n' "$model" >&2

# field TARGET KEY: the value of "  KEY: value" in TARGET's block.
field() {
    printf '%s\n' "$model" | awk -v t="$1" -v k="  $2: " '
        /^disk / { cur = substr($0, 6) }
        cur == t && index($0, k) == 1 { print substr($0, length(k) + 1) }'
}

# Every disk virsh lists is in the model with the same type, device and source.
count=0
while read -r type device target source; do
    [ -n "$target" ] || continue
    count=$((count + 1))
    [ "$(field "$target" type)" = "$type" ] || tb_fail "$target: type $(field "$target" type) != virsh $type"
    [ "$(field "$target" device)" = "$device" ] || tb_fail "$target: device differs from virsh ($device)"
    [ "$(field "$target" source)" = "$source" ] || tb_fail "$target: source '$(field "$target" source)' != virsh '$source'"
done < <(virsh_ domblklist model --details)
[ "$count" -eq 4 ] || tb_fail "virsh listed $count disks, expected 4"
[ "$(printf '%s\n' "$model" | grep -c '^disk ')" -eq 4 ] || tb_fail "the model does not have 4 disks"

# Formats and the chain agree with qemu-img.
[ "$(field vda format)" = "$(qemu-img info -U --output=json "$TB_TOP" | sed -n 's/.*"format": "\(.*\)".*/\1/p' | head -1)" ] ||
    tb_fail "vda format differs from qemu-img"
[ "$(field vda backing)" = "file qcow2 $TB_BASE" ] || tb_fail "vda chain: '$(field vda backing)', expected 'file qcow2 $TB_BASE'"
qemu-img info -U --backing-chain "$TB_TOP" | grep -q "^image: $TB_BASE\$" || tb_fail "qemu-img does not see $TB_BASE under $top"
[ "$(field vdb format)" = raw ] || tb_fail "vdb is not raw"
[ -z "$(field vdb backing)" ] || tb_fail "vdb has a backing image"
[ -z "$(field vdc backing)" ] || tb_fail "vdc has a backing image"

# Eligibility (virtsnap-create(1)): the three data disks are eligible, the cdrom skipped.
for t in vda vdb vdc; do
    [ "$(field $t eligibility)" = eligible ] || tb_fail "$t: $(field $t eligibility)"
done
case $(field hdc eligibility) in
"skipped (cdrom device)") ;;
*) tb_fail "hdc: $(field hdc eligibility)" ;;
esac
tb_pass "disk model of 4 disks matches virsh and qemu-img"
