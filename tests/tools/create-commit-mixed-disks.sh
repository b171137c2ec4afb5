#!/bin/bash
# The heart of the toolkit on the standard mixed domain (qcow2 on a chain, a
# raw file with a space and non-ASCII letters in its path, a loop block
# device, a cdrom), guest workload running: virtsnap-create then
# virtsnap-commit bring every disk back to exactly its chain, in the live and
# the persistent definition, with the shared base untouched, no overlay left,
# the frozen images at one instant and not one workload record lost. Twice:
# overlays in --overlay-dir, then next to their images.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
mkdir -p "$TB_DIR/overlays"
tb_mixed_domain vm
tb_wait_agent vm
base_sum=$(sha256sum <"$TB_BASE")
live_before=$(tb_sources vm)
persistent_before=$(tb_sources vm --inactive)

# cycle NAME yes|no CREATE_OPTIONS...: one create + commit, checked; yes when
# the block device vdc is part of the snapshot.
cycle() {
    local name=$1 with_block=$2
    shift 2
    tb_tool create --state-dir "$state" "$@" vm >"$TB_DIR/$name.manifest" 2>"$TB_DIR/$name.create.err" ||
        tb_fail "$name: virtsnap-create failed: $(cat "$TB_DIR/$name.create.err")"
    grep -q "disk 'hdc' skipped: " "$TB_DIR/$name.create.err" || tb_fail "$name: the cdrom was not reported as skipped"
    grep -q 'quiesced="yes"' "$TB_DIR/$name.manifest" || tb_fail "$name: not quiesced: $(cat "$TB_DIR/$name.manifest")"
    local freeze_ms
    freeze_ms=$(sed -n 's/.*freeze-ms="\([0-9]*\)".*/\1/p' "$TB_DIR/$name.manifest")
    [ -n "$freeze_ms" ] || tb_fail "$name: no freeze window in the manifest"
    tb_log "$name: frozen for $freeze_ms ms"
    [ -f "$state/$(virsh_ domuuid vm).state" ] || tb_fail "$name: no state record while on overlays"

    # Every chosen disk is on an overlay; the cdrom is not.
    local target overlay frozen
    while read -r target overlay; do
        [ "$(tb_sources vm | awk -v t="$target" '$1 == t { sub(/^[^ ]+ /, ""); print }')" = "$overlay" ] ||
            tb_fail "$name: $target is not on its overlay $overlay"
        [ -f "$overlay" ] || tb_fail "$name: overlay $overlay does not exist"
    done < <(xmllint --xpath '//disk' "$TB_DIR/$name.manifest" | tr '\n' ' ' | sed 's/<disk /\n<disk /g' |
        sed -n 's/.*target="\([a-z0-9]*\)".*<overlay path="\([^"]*\)".*/\1 \2/p')
    [ "$(tb_sources vm | awk '$1 == "hdc"')" = "hdc $TB_DIR/cd.iso" ] || tb_fail "$name: the cdrom was touched"

    # The frozen images hold one instant: the same last record everywhere.
    sleep 2
    local a b c
    a=$(tb_last_record "$TB_TOP" qcow2)
    b=$(tb_last_record "$TB_RAW" raw)
    c=$a
    [ "$with_block" = yes ] && c=$(tb_last_record "$TB_DIR/block.img" raw)
    tb_log "$name: frozen images end at vda=$a vdb=$b vdc=$c"
    [ "$a" -gt 0 ] || tb_fail "$name: no record on the frozen vda"
    for other in "$b" "$c"; do
        [ $((a - other)) -le 1 ] && [ $((other - a)) -le 1 ] || tb_fail "$name: frozen disks disagree: $a $b $c"
    done
    [ "$(sha256sum <"$TB_BASE")" = "$base_sum" ] || tb_fail "$name: the base image changed"

    tb_tool commit --state-dir "$state" <"$TB_DIR/$name.manifest" 2>"$TB_DIR/$name.commit.err" ||
        tb_fail "$name: virtsnap-commit failed: $(cat "$TB_DIR/$name.commit.err")"
    [ "$(tb_sources vm)" = "$live_before" ] || tb_fail "$name: live disks after commit: $(tb_sources vm)"
    [ "$(tb_sources vm --inactive)" = "$persistent_before" ] ||
        tb_fail "$name: persistent disks after commit: $(tb_sources vm --inactive)"
    grep -q '\.virtsnap-' <<<"$(virsh_ dumpxml vm)" && tb_fail "$name: the live XML still names an overlay"
    grep -q '\.virtsnap-' <<<"$(virsh_ dumpxml --inactive vm)" && tb_fail "$name: the persistent XML still names an overlay"
    [ -z "$(find "$TB_DIR" -name '*.virtsnap-*')" ] || tb_fail "$name: overlays left: $(find "$TB_DIR" -name '*.virtsnap-*')"
    [ ! -e "$state/$(virsh_ domuuid vm).state" ] || tb_fail "$name: the state record is left behind"
    qemu-img info -U "$TB_TOP" | grep -q "^backing file: $TB_BASE\$" || tb_fail "$name: vda's chain changed"
    grep -q "type='raw'" <<<"$(virsh_ dumpxml vm)" || tb_fail "$name: the raw disk lost its format"
    [ "$(sha256sum <"$TB_BASE")" = "$base_sum" ] || tb_fail "$name: the base image changed in the commit"

    # The live disks hold every record of the whole run, in order.
    sleep 2
    virsh_ domfsfreeze vm >/dev/null || tb_fail "fsfreeze failed"
    local live_a live_b live_c
    live_a=$(tb_gapless "$TB_TOP" qcow2)
    live_b=$(tb_gapless "$TB_RAW" raw)
    live_c=$(tb_gapless "$TB_DIR/block.img" raw)
    virsh_ domfsthaw vm >/dev/null || tb_fail "fsthaw failed"
    tb_log "$name: live disks end at vda=$live_a vdb=$live_b vdc=$live_c"
    [ "$live_a" -gt "$a" ] && [ "$live_b" -gt "$b" ] && [ "$live_c" -gt "$c" ] ||
        tb_fail "$name: the live disks lost the records written on the overlays"
}

cycle in-overlay-dir yes --overlay-dir "$TB_DIR/overlays"
cycle next-to-images no --exclude-disk vdc
tb_pass "create + commit restored every chain twice, nothing lost, base untouched"
