#!/bin/bash
# virtsnap-copy reads only the files a disk's chain really has, and never
# loses the backup it replaces; a disk of any size comes back whole. Without
# a guest (the copy never talks to libvirt):
# - a manifest naming another readable file as a chain image (a root-only
#   secret) is refused before a byte is read, exit 3, nothing written;
# - copy --force into a directory holding a good backup, with a disk that
#   then fails: the old backup and its manifest are still there, whole;
# - copy --force -o the frozen image's own directory is refused, exit 5,
#   and the image is untouched;
# - raw disks of 1,000,000 and 1,000 bytes are copied to qcow2 and raw,
#   verified, and restored to exactly that many bytes.
. "$(dirname "$0")/../functions.sh"
tb_init

src="$TB_DIR/src"
mkdir -p "$src"
qemu-img create -q -f qcow2 "$src/base.qcow2" 64M
qemu-io -c "write -P 0x11 0 4M" "$src/base.qcow2" >/dev/null
qemu-img create -q -f qcow2 -F qcow2 -b "$src/base.qcow2" "$src/top.qcow2"
qemu-io -c "write -P 0x22 8M 1M" "$src/top.qcow2" >/dev/null
# A file that is no part of the chain: a qcow2 too, so its format matches.
qemu-img create -q -f qcow2 "$TB_DIR/secret.qcow2" 64M
qemu-io -c "write -P 0x5e 0 4M" "$TB_DIR/secret.qcow2" >/dev/null
chmod 600 "$TB_DIR/secret.qcow2"
: >"$TB_DIR/overlay"

# manifest TARGET=FROZEN:FORMAT:SIZE[:CHAIN_PATH:CHAIN_FORMAT] ...
manifest() {
    echo '<?xml version="1.0"?>'
    echo '<virtsnap-manifest version="1">'
    echo '  <domain name="copy-test" uuid="6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11"/>'
    echo '  <snapshot id="t1" time="2026-11-22T03:15:00Z" quiesced="no"/>'
    echo '  <disks>'
    local spec target rest frozen format size chain chain_format
    for spec in "$@"; do
        target=${spec%%=*}
        IFS=: read -r frozen format size chain chain_format <<<"${spec#*=}"
        echo "    <disk target=\"$target\" type=\"file\" format=\"$format\" virtual-size=\"$size\">"
        echo "      <frozen path=\"$frozen\"/><overlay path=\"$TB_DIR/overlay.$target\"/><chain>"
        [ -n "$chain" ] && echo "        <image path=\"$chain\" format=\"$chain_format\"/>"
        echo "      </chain>"
        echo "    </disk>"
        : >"$TB_DIR/overlay.$target"
    done
    echo '  </disks>'
    echo '</virtsnap-manifest>'
}

# 1. Another file named as the chain image: refused before reading, exit 3.
manifest "vda=$src/top.qcow2:qcow2:67108864:$TB_DIR/secret.qcow2:qcow2" >"$TB_DIR/hostile.m"
for keep in "" --keep-chain; do
    status=0
    tb_tool copy $keep -o "$TB_DIR/hostile$keep" -m "$TB_DIR/hostile.m" >"$TB_DIR/out.m" 2>"$TB_DIR/err" || status=$?
    [ "$status" -eq 3 ] || tb_fail "a chain naming another file ($keep): exit $status, expected 3: $(cat "$TB_DIR/err")"
    grep -q "not the recorded '$TB_DIR/secret.qcow2'" "$TB_DIR/err" ||
        tb_fail "the refusal does not name the file ($keep): $(cat "$TB_DIR/err")"
    [ "$(wc -l <"$TB_DIR/err")" -eq 1 ] || tb_fail "not one error line: $(cat "$TB_DIR/err")"
    [ -z "$(ls -A "$TB_DIR/hostile$keep")" ] || tb_fail "files were written: $(ls -A "$TB_DIR/hostile$keep")"
    grep -q "virtsnap-copy" "$TB_DIR/out.m" || tb_fail "the manifest was not passed on marked failed"
done

# 2. --force over a good backup, then a disk fails: the old backup stays.
manifest "vda=$src/top.qcow2:qcow2:67108864:$src/base.qcow2:qcow2" >"$TB_DIR/good.m"
tb_tool copy -q -o "$TB_DIR/out" -m "$TB_DIR/good.m" >/dev/null || tb_fail "the first copy failed"
old_sum=$(sha256sum <"$TB_DIR/out/vda.qcow2")
old_manifest=$(sha256sum <"$TB_DIR/out/manifest.xml")
# vdb, copied after vda (the larger), is a FIFO: it fails once vda is copied
# (on a build before this test, it hung with vda already replaced).
mkfifo "$TB_DIR/fifo.raw"
manifest "vda=$src/top.qcow2:qcow2:67108864:$src/base.qcow2:qcow2" \
    "vdb=$TB_DIR/fifo.raw:raw:16777216" >"$TB_DIR/two.m"
status=0
timeout 60 "$TB_BUILD_DIR/tools/virtsnap-copy" -q --force -o "$TB_DIR/out" -m "$TB_DIR/two.m" \
    >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 3 ] || tb_fail "a FIFO as a disk: exit $status, expected 3: $(cat "$TB_DIR/err")"
[ "$(sha256sum <"$TB_DIR/out/vda.qcow2")" = "$old_sum" ] || tb_fail "--force lost the old vda.qcow2"
[ "$(sha256sum <"$TB_DIR/out/manifest.xml")" = "$old_manifest" ] || tb_fail "--force changed the old manifest"
[ "$(ls "$TB_DIR/out")" = "$(printf '%s\n' manifest.xml vda.qcow2)" ] || tb_fail "files left: $(ls "$TB_DIR/out")"
tb_tool verify -q "$TB_DIR/out" >/dev/null || tb_fail "the old backup no longer verifies"

# 3. The frozen image's own directory as the destination: refused.
cp "$src/top.qcow2" "$TB_DIR/vda.qcow2"
qemu-img rebase -q -u -F qcow2 -b "$src/base.qcow2" "$TB_DIR/vda.qcow2"
manifest "vda=$TB_DIR/vda.qcow2:qcow2:67108864:$src/base.qcow2:qcow2" >"$TB_DIR/self.m"
sum=$(sha256sum <"$TB_DIR/vda.qcow2")
inode=$(stat -c %i "$TB_DIR/vda.qcow2")
status=0
tb_tool copy --force -o "$TB_DIR" -m "$TB_DIR/self.m" >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 5 ] || tb_fail "copy -o the source's directory: exit $status, expected 5: $(cat "$TB_DIR/err")"
grep -q "a source is never a destination" "$TB_DIR/err" || tb_fail "no clear refusal: $(cat "$TB_DIR/err")"
[ "$(sha256sum <"$TB_DIR/vda.qcow2")" = "$sum" ] && [ "$(stat -c %i "$TB_DIR/vda.qcow2")" = "$inode" ] ||
    tb_fail "copy --force replaced its own source"

# 4. Odd sizes: every byte of a 1,000,000- and a 1,000-byte raw disk comes
# back, in either format, and verifies.
head -c 1000000 /dev/urandom >"$TB_DIR/odd.raw"
head -c 1000 /dev/urandom >"$TB_DIR/tiny.raw"
manifest "vda=$TB_DIR/odd.raw:raw:1000000" "vdb=$TB_DIR/tiny.raw:raw:1000" >"$TB_DIR/odd.m"
mkdir -p "$TB_DIR/sets/odd"
for format in qcow2 raw; do
    set="$TB_DIR/sets/odd/odd-$format"
    tb_tool copy -q --format "$format" -o "$set" -m "$TB_DIR/odd.m" >/dev/null || tb_fail "copy of odd sizes ($format) failed"
    qemu-img check -q -f qcow2 "$set/vda.qcow2" 2>/dev/null || [ "$format" = raw ] ||
        tb_fail "the odd-sized qcow2 does not check"
    tb_tool verify -q "$set" >/dev/null 2>"$TB_DIR/err" || tb_fail "odd sizes ($format) do not verify: $(cat "$TB_DIR/err")"
    printf '%s\n' "$(date +%s)" >"$set/complete"
    tb_tool restore -q "$set" -o "$TB_DIR/back-$format" >/dev/null 2>"$TB_DIR/err" ||
        tb_fail "the restore of odd sizes ($format) failed: $(cat "$TB_DIR/err")"
    [ "$(stat -c %s "$TB_DIR/back-$format/vda.raw")" -eq 1000000 ] ||
        tb_fail "the restored 1,000,000-byte disk ($format) has $(stat -c %s "$TB_DIR/back-$format/vda.raw") bytes"
    [ "$(stat -c %s "$TB_DIR/back-$format/vdb.raw")" -eq 1000 ] ||
        tb_fail "the restored 1,000-byte disk ($format) has $(stat -c %s "$TB_DIR/back-$format/vdb.raw") bytes"
    cmp -s "$TB_DIR/odd.raw" "$TB_DIR/back-$format/vda.raw" || tb_fail "the restored odd disk ($format) differs"
    cmp -s "$TB_DIR/tiny.raw" "$TB_DIR/back-$format/vdb.raw" || tb_fail "the restored tiny disk ($format) differs"
done
tb_pass "chains are proven before reading, --force never loses the old backup, a source is never a destination, odd sizes come back whole"
