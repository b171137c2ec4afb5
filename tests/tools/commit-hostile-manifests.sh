#!/bin/bash
# virtsnap-commit treats a manifest as input from outside. With the domain on
# its overlays, manifests whose overlay names an unrelated file (even a qcow2
# backed by the frozen image), whose UUID is wrong, whose snapshot id is
# another, whose paths traverse, or which are truncated, empty or not XML
# change nothing and delete nothing, each with one error line and its
# documented exit status. The true manifest then commits.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
tb_image "$TB_DIR/disk.qcow2" qcow2 32M vda
tb_disk_file vda "$TB_DIR/disk.qcow2" qcow2
tb_start_domain vm
tb_wait_agent vm
tb_tool create --state-dir "$state" vm >"$TB_DIR/good.manifest" 2>/dev/null || tb_fail "create failed"
overlay=$(sed -n 's/.*<overlay path="\([^"]*\)".*/\1/p' "$TB_DIR/good.manifest")
on_overlay=$(tb_sources vm)
[ "$on_overlay" = "vda $overlay" ] || tb_fail "not on the overlay: $on_overlay"

# A file an attacker would like deleted: a qcow2 on the frozen image, named
# like an overlay of the same snapshot.
decoy="$TB_DIR/disk.virtsnap-$(sed -n 's/.*<snapshot id="\([^"]*\)".*/\1/p' "$TB_DIR/good.manifest").vdb.qcow2"
qemu-img create -q -f qcow2 -F qcow2 -b "$TB_DIR/disk.qcow2" "$decoy"
echo precious >"$TB_DIR/precious.txt"
decoy_sum=$(sha256sum <"$decoy")

# hostile NAME EXPECTED_STATUS: commits $TB_DIR/NAME.manifest and checks nothing changed.
hostile() {
    local name=$1 expected=$2 status=0
    tb_tool commit --state-dir "$state" -m "$TB_DIR/$name.manifest" 2>"$TB_DIR/err" || status=$?
    [ "$status" -eq "$expected" ] || tb_fail "$name: exit status $status, expected $expected: $(cat "$TB_DIR/err")"
    [ "$(wc -l <"$TB_DIR/err")" -eq 1 ] || tb_fail "$name: not one error line: $(cat "$TB_DIR/err")"
    [ "$(tb_sources vm)" = "$on_overlay" ] || tb_fail "$name: the domain changed: $(tb_sources vm)"
    [ -f "$overlay" ] && [ -f "$decoy" ] && [ -f "$TB_DIR/precious.txt" ] || tb_fail "$name: a file was deleted"
    [ "$(sha256sum <"$decoy")" = "$decoy_sum" ] || tb_fail "$name: the decoy was written"
    [ -f "$state/$(virsh_ domuuid vm).state" ] || tb_fail "$name: the state record was removed"
    tb_log "$name: $(cat "$TB_DIR/err")"
}

good=$(cat "$TB_DIR/good.manifest")
printf '%s' "${good//$overlay/$decoy}" >"$TB_DIR/decoy-overlay.manifest"
printf '%s' "${good//$overlay/$TB_DIR/precious.txt}" >"$TB_DIR/unrelated-overlay.manifest"
printf '%s' "${good//$overlay/$TB_DIR/../$(basename "$TB_DIR")/precious.txt}" >"$TB_DIR/traversal.manifest"
uuid=$(virsh_ domuuid vm)
printf '%s' "${good//$uuid/00000000-0000-4000-8000-000000000001}" >"$TB_DIR/wrong-uuid.manifest"
sed 's/<snapshot id="[^"]*"/<snapshot id="19990101-000000-0000"/' "$TB_DIR/good.manifest" >"$TB_DIR/other-snapshot.manifest"
head -c $(($(wc -c <"$TB_DIR/good.manifest") / 2)) "$TB_DIR/good.manifest" >"$TB_DIR/truncated.manifest"
: >"$TB_DIR/empty.manifest"
echo 'not a manifest' >"$TB_DIR/garbage.manifest"
printf '%s' "${good/<\/disks>/<disk target=\"vdb\" type=\"file\" format=\"qcow2\" virtual-size=\"1\"><frozen path=\"$TB_DIR/disk.qcow2\"/><overlay path=\"$decoy\"/><chain/></disk></disks>}" >"$TB_DIR/extra-disk.manifest"

hostile decoy-overlay 5
hostile unrelated-overlay 5
hostile traversal 3
hostile wrong-uuid 1
hostile other-snapshot 5
hostile truncated 3
hostile empty 3
hostile garbage 3
hostile extra-disk 5

tb_tool commit --state-dir "$state" -m "$TB_DIR/good.manifest" 2>"$TB_DIR/err" || tb_fail "the true manifest failed: $(cat "$TB_DIR/err")"
[ "$(tb_sources vm)" = "vda $TB_DIR/disk.qcow2" ] || tb_fail "not back on the image"
[ ! -e "$overlay" ] || tb_fail "the overlay is left"
[ -f "$decoy" ] && [ "$(sha256sum <"$decoy")" = "$decoy_sum" ] || tb_fail "the decoy was touched by the true commit"
# Committing the same manifest again is refused: nothing is pending.
status=0
tb_tool commit --state-dir "$state" -m "$TB_DIR/good.manifest" 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 5 ] || tb_fail "a second commit exited $status: $(cat "$TB_DIR/err")"
tb_pass "hostile manifests changed nothing and deleted nothing; the true one committed"
