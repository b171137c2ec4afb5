#!/bin/bash
# A backup set is input from outside. Crafted sets never make a tool read a
# host file, write outside where it was pointed, hang, or print what a
# terminal or a parser would misread. Without a guest:
# - an image that is a symbolic link to a host file (checksums to match), a
#   qcow2 naming a host image as its backing file, a qcow2 keeping its data
#   in a host file: restore and verify both refuse them, exit 3, nothing
#   restored;
# - manifest.xml as a FIFO, as a link to /dev/zero, or with a DTD whose
#   entity would expand to gigabytes: list, verify and restore answer at
#   once;
# - a hard link, or another user's file, planted at DIR/domain.xml.partial:
#   the restore writes a fresh file, the linked file is untouched;
# - a restore --force from a damaged set over existing files leaves them;
# - verify --source of a manifest whose frozen image names a host file as
#   its backing file, or is a FIFO: exit 3 at once, nothing opened by QEMU;
# - a restore --force into the set itself, of images or of one file: exit 5,
#   its domain.xml and manifest kept;
# - list escapes a newline and terminal codes in a directory name, gives a
#   non-UTF-8 name in JSON with its bytes, and marks sizes that pass 2^64;
# - bad command lines: one error line, exit 2 or 3, nothing made.
. "$(dirname "$0")/../functions.sh"
tb_init

src="$TB_DIR/src"
dest="$TB_DIR/dest"
mkdir -p "$src" "$dest/vm"
head -c 4M /dev/urandom >"$src/secret.raw"
chmod 600 "$src/secret.raw"
qemu-img create -q -f qcow2 "$src/base.qcow2" 16M
qemu-io -c "write -P 0x11 0 2M" "$src/base.qcow2" >/dev/null
qemu-img create -q -f qcow2 -F qcow2 -b "$src/base.qcow2" "$src/top.qcow2"
qemu-io -c "write -P 0x22 4M 1M" "$src/top.qcow2" >/dev/null
: >"$TB_DIR/overlay"

# make_set N FROZEN FORMAT SIZE CHAIN [COPY_OPTIONS...]: complete set
# number N (two digits) made by virtsnap-copy (CHAIN may be ""); prints its
# directory.
make_set() {
    local n=$1 frozen=$2 format=$3 size=$4 chain=$5
    shift 5
    local set="$dest/vm/20261130-0000$n-000-0001"
    {
        echo '<?xml version="1.0"?><virtsnap-manifest version="1">'
        echo '<domain name="vm" uuid="6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11"/>'
        echo '<snapshot id="s1" time="2026-11-30T00:00:00Z" quiesced="no"/><disks>'
        echo "<disk target=\"vda\" type=\"file\" format=\"$format\" virtual-size=\"$size\">"
        echo "<frozen path=\"$frozen\"/><overlay path=\"$TB_DIR/overlay\"/><chain>"
        [ -n "$chain" ] && echo "<image path=\"$chain\" format=\"qcow2\"/>"
        echo '</chain></disk></disks></virtsnap-manifest>'
    } >"$TB_DIR/m$n"
    tb_tool copy -q "$@" -o "$set" -m "$TB_DIR/m$n" >/dev/null || tb_fail "making set $n failed"
    echo "s1" >"$set/complete"
    echo "$set"
}

# verify_refused SET TEXT [OPTIONS...]: virtsnap-verify exits 3 saying TEXT
# on one line (it passes the manifest on, marked, on stdout).
verify_refused() {
    local status=0
    tb_tool verify "${@:3}" "$1" >/dev/null 2>"$TB_DIR/verify.err" || status=$?
    [ "$status" -eq 3 ] || tb_fail "verify $1: exit $status, expected 3: $(cat "$TB_DIR/verify.err")"
    [ "$(wc -l <"$TB_DIR/verify.err")" -eq 1 ] || tb_fail "verify $1: not one error line: $(cat "$TB_DIR/verify.err")"
    grep -q -- "$2" "$TB_DIR/verify.err" || tb_fail "verify $1 does not say '$2': $(cat "$TB_DIR/verify.err")"
}

# refused SET TEXT: restore and verify both exit 3 saying TEXT, nothing restored.
refused() {
    local set=$1 text=$2 out="$TB_DIR/restored.$RANDOM"
    tb_expect_error 3 "$text" restore "$set" -o "$out"
    [ -z "$(ls -A "$out" 2>/dev/null)" ] || tb_fail "a refused restore wrote: $(ls -A "$out")"
    verify_refused "$set" "$text"
}

# 1. The image is a link to the host file its checksums describe.
set=$(make_set 11 "$src/secret.raw" raw 4194304 "" --format raw)
rm "$set/vda.raw"
ln -s "$src/secret.raw" "$set/vda.raw"
refused "$set" "is a symbolic link"

# 2. A kept chain whose top names a host image as its backing file.
set=$(make_set 12 "$src/top.qcow2" qcow2 16777216 "$src/base.qcow2" --keep-chain)
cp "$src/base.qcow2" "$src/other-vm.qcow2"
qemu-img rebase -q -u -F qcow2 -b "$src/other-vm.qcow2" "$set/vda.qcow2"
refused "$set" "names the backing file '$src/other-vm.qcow2', but the manifest records 'vda.1.qcow2'"

# A layer named so that QEMU would take the name for something else.
set=$(make_set 16 "$src/top.qcow2" qcow2 16777216 "$src/base.qcow2" --keep-chain)
json='json:{"driver":"raw","file":{"driver":"file","filename":"\\u002fetc\\u002fshadow"}}'
sed -i "s|\"vda.1.qcow2\"|'$json'|g" "$set/manifest.xml"
refused "$set" "is not 'vda.1.qcow2', the name virtsnap gives it"

# 3. A qcow2 keeping its data in the host file its checksums describe.
set=$(make_set 13 "$src/secret.raw" raw 4194304 "")
qemu-img create -q -f qcow2 -o data_file="$TB_DIR/scratch.raw",data_file_raw=on "$TB_DIR/ext.qcow2" 4M
qemu-img amend -o data_file="$src/secret.raw" "$TB_DIR/ext.qcow2"
cp "$TB_DIR/ext.qcow2" "$set/vda.qcow2"
refused "$set" "keeps its data in an external file"

# 4. manifest.xml that is a FIFO, a link to /dev/zero, an entity bomb.
good=$(make_set 14 "$src/top.qcow2" qcow2 16777216 "$src/base.qcow2")
mkdir -p "$dest/fifo" "$dest/zero" "$dest/bomb"
for kind in fifo zero bomb; do
    set="$dest/$kind/20261130-000000-000-0001"
    cp -a "$good" "$set"
    rm "$set/manifest.xml"
done
mkfifo "$dest/fifo/20261130-000000-000-0001/manifest.xml"
ln -s /dev/zero "$dest/zero/20261130-000000-000-0001/manifest.xml"
{
    echo '<?xml version="1.0"?>'
    printf '<!DOCTYPE m [<!ENTITY a "%s">]>\n' "$(head -c 200000 /dev/zero | tr '\0' a)"
    printf '<virtsnap-manifest version="1"><domain name="'
    for _ in $(seq 1 5000); do printf '&a;'; done
    echo '" uuid="6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11"/></virtsnap-manifest>'
} >"$dest/bomb/20261130-000000-000-0001/manifest.xml"
for kind in fifo:FIFO zero:symbolic bomb:DTD; do
    set="$dest/${kind%%:*}/20261130-000000-000-0001"
    start=$SECONDS
    verify_refused "$set" "${kind#*:}"
    tb_expect_error 3 "${kind#*:}" restore "$set" -o "$TB_DIR/never"
    listing=$(timeout 20 "$TB_BUILD_DIR/tools/virtsnap-list" "$dest" "${kind%%:*}") ||
        tb_fail "list of a set with a ${kind%%:*} manifest failed or hung"
    grep -q "damaged: .*${kind#*:}" <<<"$listing" || tb_fail "list does not show the ${kind%%:*} set damaged: $listing"
    [ $((SECONDS - start)) -lt 15 ] || tb_fail "a ${kind%%:*} manifest took $((SECONDS - start)) s"
done
[ -e "$TB_DIR/never" ] && tb_fail "a refused restore created its directory"
timeout 20 "$TB_BUILD_DIR/tools/virtsnap-list" "$dest" >/dev/null || tb_fail "list of the whole destination failed or hung"

# 5. Planted at DIR/domain.xml.partial: a hard link, another user's file.
echo '<domain type="qemu"><name>vm</name><devices><disk type="file" device="disk"><source file="/x"/><target dev="vda"/></disk></devices></domain>' >"$good/domain.xml"
echo precious >"$TB_DIR/victim"
mkdir "$TB_DIR/out1"
ln "$TB_DIR/victim" "$TB_DIR/out1/domain.xml.partial"
tb_tool restore -q "$good" -o "$TB_DIR/out1" >/dev/null 2>"$TB_DIR/err" || tb_fail "restore over a planted hard link failed: $(cat "$TB_DIR/err")"
[ "$(cat "$TB_DIR/victim")" = precious ] || tb_fail "the restore wrote through a planted hard link"
grep -q '/out1/vda.qcow2' "$TB_DIR/out1/domain.xml" || tb_fail "the restored domain.xml does not name the image"
mkdir "$TB_DIR/out2"
echo other >"$TB_DIR/out2/domain.xml.partial"
chown nobody "$TB_DIR/out2/domain.xml.partial"
chmod 666 "$TB_DIR/out2/domain.xml.partial"
tb_tool restore -q "$good" -o "$TB_DIR/out2" >/dev/null || tb_fail "restore over another user's partial failed"
[ "$(stat -c '%U %a' "$TB_DIR/out2/domain.xml")" = "root 600" ] ||
    tb_fail "domain.xml is $(stat -c '%U %a' "$TB_DIR/out2/domain.xml"), not root's and 0600"

# 6. --force from a damaged set over existing files: they stay.
damaged=$(make_set 15 "$src/top.qcow2" qcow2 16777216 "$src/base.qcow2")
offset=$(qemu-img map -f qcow2 --output=json "$damaged/vda.qcow2" | jq '[.[] | select(.data)][0].offset')
printf '\xff' | dd of="$damaged/vda.qcow2" bs=1 seek=$((offset + 100)) conv=notrunc status=none
sum=$(sha256sum <"$TB_DIR/out1/vda.qcow2")
status=0
tb_tool restore --force "$damaged" -o "$TB_DIR/out1" >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 4 ] || tb_fail "a damaged set with --force: exit $status, expected 4: $(cat "$TB_DIR/err")"
[ "$(sha256sum <"$TB_DIR/out1/vda.qcow2")" = "$sum" ] || tb_fail "a damaged restore replaced the existing image"
ls "$TB_DIR/out1" | grep -q partial && tb_fail "a damaged restore left a partial file"

# 7. list: names from outside are escaped, in the table and in JSON.
evil=$(printf 'evil\nrow\033[31m')
mkdir -p "$TB_DIR/list/$evil" "$TB_DIR/list/$(printf 'bad\377name')"
cp -a "$good" "$TB_DIR/list/$evil/20261130-000000-000-0001"
cp -a "$good" "$TB_DIR/list/$(printf 'bad\377name')/20261130-000000-000-0001"
table=$(tb_tool list "$TB_DIR/list") || tb_fail "list failed"
[ "$(wc -l <<<"$table")" -eq 3 ] || tb_fail "a newline in a name faked a row: $table"
grep -q $'\033' <<<"$table" && tb_fail "a terminal escape reached the listing"
grep -qF 'evil\nrow\x1b[31m' <<<"$table" || tb_fail "the escaped name is not shown: $table"
tb_tool list --json "$TB_DIR/list" >"$TB_DIR/list.json" || tb_fail "list --json failed on a non-UTF-8 name"
jq -e '.[] | select(.domain_hex == "626164ff6e616d65")' "$TB_DIR/list.json" >/dev/null ||
    tb_fail "the non-UTF-8 name is not given with its bytes: $(cat "$TB_DIR/list.json")"
wrap="$TB_DIR/list/wrap/20261130-000000-000-0001"
mkdir -p "$(dirname "$wrap")"
cp -a "$good" "$wrap"
sed -i 's/allocated="[0-9]*"/allocated="18446744073709551615"/' "$wrap/manifest.xml"
python3 - "$wrap/manifest.xml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index('<disk ')
j = s.index('</disk>', i) + len('</disk>')
s = s[:j] + s[i:j].replace('target="vda"', 'target="vdb"').replace('/overlay"', '/overlay2"').replace('name="vda.', 'name="vdb.') + s[j:]
open(p, 'w').write(s)
PY
grep -q "damaged: its manifest records sizes that cannot add up" <<<"$(tb_tool list "$TB_DIR/list" wrap)" ||
    tb_fail "sizes past 2^64 are not marked: $(tb_tool list "$TB_DIR/list" wrap)"

# 9. The frozen image a manifest names, compared by verify --source: proven
# to be the recorded chain first, as a copy proves it; never followed into
# a host file, never waited on as a FIFO.
frozen=$(make_set 17 "$src/secret.raw" raw 4194304 "" --format raw)
qemu-img create -q -f qcow2 -F raw -b "$src/secret.raw" "$dest/vm/guess.qcow2" 4M
sed -i "s|<frozen path=\"$src/secret.raw\"/>|<frozen path=\"$dest/vm/guess.qcow2\"/>|; s|type=\"file\" format=\"raw\"|type=\"file\" format=\"qcow2\"|" \
    "$frozen/manifest.xml"
grep -q "guess.qcow2" "$frozen/manifest.xml" || tb_fail "the test did not rewrite the frozen image"
verify_refused "$frozen" "has 2 image(s), not the 1 recorded" --source
mkfifo "$TB_DIR/frozen.fifo"
sed -i "s|<frozen path=\"$dest/vm/guess.qcow2\"/>|<frozen path=\"$TB_DIR/frozen.fifo\"/>|; s|type=\"file\" format=\"qcow2\"|type=\"file\" format=\"raw\"|" \
    "$frozen/manifest.xml"
start=$SECONDS
timeout 20 "$TB_BUILD_DIR/tools/virtsnap-verify" --source "$frozen" >/dev/null 2>"$TB_DIR/err" && tb_fail "verify --source of a FIFO passed"
grep -q "not a regular file or a block device" "$TB_DIR/err" || tb_fail "verify --source of a FIFO: $(cat "$TB_DIR/err")"
[ $((SECONDS - start)) -lt 15 ] || tb_fail "verify --source waited $((SECONDS - start)) s on a FIFO"

# 10. A restore into a backup set, or into a directory inside one, under
# any image name and with --force, is refused: the set's saved definition
# is never replaced, and retention never removes restored images with it.
cp "$good/domain.xml" "$TB_DIR/definition.before"
tb_expect_error 5 "a restore never writes into a backup set" restore --force --format raw "$good" -o "$good"
cmp -s "$good/domain.xml" "$TB_DIR/definition.before" || tb_fail "a restore into the set replaced its domain.xml"
[ -e "$good/vda.raw" ] && tb_fail "a refused restore into the set wrote an image there"
tb_expect_error 5 "a restore never writes into a backup set" restore "$good" -o "$good/restored/deeper"
[ -e "$good/restored" ] && tb_fail "a refused restore made a directory inside the set"
cp "$good/manifest.xml" "$TB_DIR/manifest.before"
tb_expect_error 5 "a restore never writes into a backup set" restore --force "$good" --file /etc/hostname --to "$good/manifest.xml"
cmp -s "$good/manifest.xml" "$TB_DIR/manifest.before" || tb_fail "a file restore into the set replaced its manifest"

# 8. Bad command lines: one line, a documented status, nothing made.
long="$TB_DIR/$(printf 'd%.0s' $(seq 1 200))"
for _ in $(seq 1 25); do long="$long/$(printf 'd%.0s' $(seq 1 200))"; done
tb_expect_error 2 "more than the system allows" restore "$good" -o "$long"
[ -e "$TB_DIR/$(printf 'd%.0s' $(seq 1 200))" ] && tb_fail "a name too long made directories"
tb_expect_error 2 "--jobs must be a whole number from 1 to 64" copy --jobs=-4294967295 -o "$TB_DIR/j" -m "$TB_DIR/m14"
tb_expect_error 2 "--bandwidth must be a whole number" backup --bandwidth -1 -o "$TB_DIR/b" vm
tb_expect_error 2 "--bandwidth must be a whole number" commit --bandwidth -1 --recover vm
tb_expect_error 2 "named twice" restore -d vda -d vda "$good" -o "$TB_DIR/twice"
tb_expect_error 3 "is a directory" copy -o "$TB_DIR/d" -m "$TB_DIR"
[ -e "$TB_DIR/j" ] || [ -e "$TB_DIR/b" ] || [ -e "$TB_DIR/twice" ] || [ -e "$TB_DIR/d" ] &&
    tb_fail "a bad command line made a directory"
tb_pass "crafted sets are refused or listed safely, planted partials are never written through, bad command lines change nothing"
