#!/bin/bash
# virtsnap-copy and virtsnap-verify on real images, without a guest (the
# copy never talks to libvirt): a qcow2 on a chain (flattened and kept, plain
# and compressed, to qcow2 and raw), a sparse raw file with a space and a
# non-ASCII letter in its name, and a loop block device. Every copy is
# identical to its source, holes stay holes, checksums agree across formats;
# an existing backup is not overwritten without --force; a destination that
# is too small fails cleanly with nothing partial left and the manifest
# marked; a flipped byte is found by --checksums with its chunk's offset; a
# damaged ext4 is reported by --filesystems.
. "$(dirname "$0")/../functions.sh"
tb_init
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg

src="$TB_DIR/src dir é"
mkdir -p "$src"
# vda: base <- top, 1 GiB virtual; data in extents with holes between.
qemu-img create -q -f qcow2 "$src/base.qcow2" 1G
qemu-io -c "write -P 0x11 0 8M" -c "write -P 0x22 300M 5M" "$src/base.qcow2" >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=131072,lazy_refcounts=on -F qcow2 -b "$src/base.qcow2" "$src/top.qcow2"
qemu-io -c "write -P 0x33 4M 2M" -c "write -z 300M 1M" -c "write -P 0x44 900M 256k" "$src/top.qcow2" >/dev/null
# vdb: an ext4 filesystem in a sparse raw file with random data in a file.
truncate -s 256M "$src/data é.raw"
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$src/data é.raw"
head -c 3M /dev/urandom >"$TB_DIR/random"
debugfs -w -R "write $TB_DIR/random random" "$src/data é.raw" >/dev/null 2>&1
# vdc: a block device.
truncate -s 64M "$TB_DIR/block.img"
dd if=/dev/urandom of="$TB_DIR/block.img" bs=1M count=2 seek=10 conv=notrunc status=none
loop=$(tb_loop "$TB_DIR/block.img")
for ov in vda vdb vdc; do : >"$TB_DIR/$ov.overlay"; done

manifest() {
    cat <<XML
<?xml version="1.0"?>
<virtsnap-manifest version="1">
  <domain name="copy-test" uuid="6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11"/>
  <snapshot id="t1" time="2026-11-22T03:15:00Z" quiesced="no"/>
  <disks>
    <disk target="vda" type="file" format="qcow2" virtual-size="1073741824">
      <frozen path="$src/top.qcow2"/><overlay path="$TB_DIR/vda.overlay"/>
      <chain><image path="$src/base.qcow2" format="qcow2"/></chain>
    </disk>
    <disk target="vdb" type="file" format="raw" virtual-size="268435456">
      <frozen path="$src/data é.raw"/><overlay path="$TB_DIR/vdb.overlay"/><chain/>
    </disk>
    <disk target="vdc" type="block" format="raw" virtual-size="67108864">
      <frozen path="$loop"/><overlay path="$TB_DIR/vdc.overlay"/><chain/>
    </disk>
  </disks>
</virtsnap-manifest>
XML
}
manifest >"$TB_DIR/m"
allocated() { echo $(($(stat -c %b "$1") * 512)); }
checksums() { grep -o 'checksum="[^"]*"' "$1"; }

# Flattened qcow2 (the default), raw, compressed; each identical, sparse,
# with the same checksums.
for args in "" "--format raw" "--compress"; do
    out="$TB_DIR/out $args"
    tb_tool copy -q $args -o "$out" -m "$TB_DIR/m" >"$out.m" || tb_fail "copy $args failed"
    ext=qcow2; [ "$args" = "--format raw" ] && ext=raw
    qemu-img compare -q -f qcow2 -F "$ext" "$src/top.qcow2" "$out/vda.$ext" || tb_fail "$args: vda differs"
    qemu-img compare -q -f raw -F "$ext" "$src/data é.raw" "$out/vdb.$ext" || tb_fail "$args: vdb differs"
    qemu-img compare -q -f raw -F "$ext" "$loop" "$out/vdc.$ext" || tb_fail "$args: vdc differs"
    [ "$(stat -c %a "$out/vda.$ext")" = 600 ] || tb_fail "$args: vda.$ext is not mode 0600"
    ls "$out" | grep -q partial && tb_fail "$args: a .partial file is left"
    # Holes stay holes: no larger than the source's data plus metadata.
    [ "$(allocated "$out/vda.$ext")" -le $(((8 + 5 + 2 + 1) << 20)) ] ||
        tb_fail "$args: vda copy allocates $(allocated "$out/vda.$ext") bytes"
    [ "$(allocated "$out/vdc.$ext")" -le $((3 << 20)) ] || tb_fail "$args: the block device copy is not sparse"
    [ "$(allocated "$out/vdb.$ext")" -le $(($(allocated "$src/data é.raw") + (1 << 20))) ] ||
        tb_fail "$args: vdb copy larger than its source"
    checksums "$out.m" >"$out.sums"
    cmp -s "$out.sums" "$TB_DIR/out .sums" || tb_fail "$args: checksums differ from the qcow2 copy's"
    tb_tool verify -q "$out" >/dev/null || tb_fail "$args: verify of the stored copy failed"
    tb_tool verify -q -m "$out.m" >/dev/null || tb_fail "$args: verify against the source failed"
done
qemu-img info "$TB_DIR/out /vda.qcow2" | grep -q "cluster_size: 131072" || tb_fail "cluster size not kept"
qemu-img info "$TB_DIR/out /vda.qcow2" | grep -q "lazy refcounts: true" || tb_fail "lazy refcounts not kept"
grep -q 'lazy-refcounts="yes"' "$TB_DIR/out .m" || tb_fail "source options not recorded"
qemu-img info "$TB_DIR/out --compress/vda.qcow2" --output=json | grep -q '"compressed-clusters\|compression' ||
    tb_fail "no compression recorded by qemu-img"
[ "$(allocated "$TB_DIR/out --compress/vda.qcow2")" -lt "$(allocated "$TB_DIR/out /vda.qcow2")" ] ||
    tb_fail "the compressed copy is not smaller"

# A kept chain: two files, relative backing name, each layer identical.
out="$TB_DIR/chain"
tb_tool copy -q --keep-chain -o "$out" -m "$TB_DIR/m" >"$out.m" || tb_fail "copy --keep-chain failed"
[ "$(qemu-img info --output=json "$out/vda.qcow2" | sed -n 's/.*"backing-filename": "\([^"]*\)".*/\1/p')" = vda.1.qcow2 ] ||
    tb_fail "the kept chain's backing name is not relative"
qemu-img compare -q "$src/base.qcow2" "$out/vda.1.qcow2" || tb_fail "the base layer differs"
qemu-img compare -q "$src/top.qcow2" "$out/vda.qcow2" || tb_fail "the kept chain differs"
mv "$out" "$TB_DIR/chain moved"
tb_tool verify -q "$TB_DIR/chain moved" >/dev/null || tb_fail "a moved chain does not verify"

# An existing backup is not replaced without --force; nothing is copied.
status=0
tb_tool copy -q -o "$TB_DIR/out " -m "$TB_DIR/m" >"$TB_DIR/refused.m" 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 5 ] || tb_fail "copy over an existing backup exited $status, expected 5"
grep -q "already exists" "$TB_DIR/err" || tb_fail "unclear refusal: $(cat "$TB_DIR/err")"
grep -q '<failure tool="virtsnap-copy">' "$TB_DIR/refused.m" || tb_fail "the refusal is not in the manifest"
tb_tool copy -q --force -o "$TB_DIR/out " -m "$TB_DIR/m" >/dev/null || tb_fail "copy --force failed"

# A destination too small: clear error naming disk and destination, nothing
# partial left, manifest marked, exit 1.
mkdir "$TB_DIR/small"
mount -t tmpfs -o size=12M tmpfs "$TB_DIR/small"
status=0
tb_tool copy -q -o "$TB_DIR/small" -m "$TB_DIR/m" >"$TB_DIR/full.m" 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 1 ] || tb_fail "a full destination exited $status, expected 1"
grep -q "disk 'vd.' to '$TB_DIR/small'" "$TB_DIR/err" || tb_fail "the error names no disk/destination: $(cat "$TB_DIR/err")"
grep -qi "no space" "$TB_DIR/err" || tb_fail "the error does not say the destination is full: $(cat "$TB_DIR/err")"
[ -z "$(ls -A "$TB_DIR/small")" ] || tb_fail "files left on the full destination: $(ls -A "$TB_DIR/small")"
grep -q '<failure tool="virtsnap-copy">' "$TB_DIR/full.m" || tb_fail "the manifest is not marked failed"
status=0
tb_tool verify -q -m "$TB_DIR/full.m" >/dev/null 2>&1 || status=$?
[ "$status" -eq 5 ] || tb_fail "verify of a failed copy exited $status, expected 5"
tb_log "full destination: $(cat "$TB_DIR/err")"

# One flipped byte in the raw copy of vdb: --checksums names its chunk.
out="$TB_DIR/out --format raw"
offset=$(( (128 << 20) + 12345 ))
byte=$(dd if="$out/vdb.raw" bs=1 skip=$offset count=1 status=none | od -An -tu1 | tr -d ' ')
printf "\\$(printf '%03o' $(( (byte ^ 1) & 255 )))" | dd of="$out/vdb.raw" bs=1 seek=$offset conv=notrunc status=none
status=0
tb_tool verify --checksums "$out" >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 4 ] || tb_fail "verify of a damaged copy exited $status, expected 4"
grep -q "vdb: checksums: checksum mismatch: 1 damaged chunk(s) of 64 MiB at offset 134217728" "$TB_DIR/err" ||
    tb_fail "the damaged chunk is not named: $(cat "$TB_DIR/err")"
status=0
tb_tool verify -m "$out.m" >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 4 ] || tb_fail "compare with the source exited $status, expected 4"
grep -q "vdb: source: differs from the frozen image, first at offset $(( offset / 512 * 512 ))" "$TB_DIR/err" ||
    tb_fail "the first difference is not named: $(cat "$TB_DIR/err")"

# A sound ext4 is clean; a damaged one (its root inode cleared) is reported.
out="$TB_DIR/out --format raw"
cp --sparse=always "$src/data é.raw" "$out/vdb.raw"
tb_tool verify --filesystems "$out" >/dev/null 2>"$TB_DIR/err" || tb_fail "verify --filesystems of sound copies failed: $(cat "$TB_DIR/err")"
grep -q "vdb: filesystems: /dev/sdb: ext4: clean" "$TB_DIR/err" || tb_fail "the sound ext4 is not clean: $(cat "$TB_DIR/err")"
debugfs -w -R "clri <2>" "$out/vdb.raw" >/dev/null 2>&1
status=0
tb_tool verify --filesystems "$out" >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 4 ] || tb_fail "verify --filesystems of a damaged ext4 exited $status, expected 4: $(cat "$TB_DIR/err")"
grep -q "vdb: filesystems: /dev/sdb: ext4: damaged" "$TB_DIR/err" || tb_fail "no damage reported: $(cat "$TB_DIR/err")"
grep -q "vda: filesystems: .*no filesystem" "$TB_DIR/err" || tb_fail "vda not reported as unformatted: $(cat "$TB_DIR/err")"
tb_log "$(grep filesystems "$TB_DIR/err")"
tb_pass "copies identical and sparse in every form; refusals, a full destination and damage reported"
