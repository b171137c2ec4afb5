#!/bin/bash
# virtsnap-backup --level diff between incrementals, on a running guest that
# writes known files, overwrites one with zeros, deletes one and trims
# (discard='unmap', fstrim in the guest): full, inc, inc, diff, inc. The diff
# hangs on the full, not on the incs, and holds everything changed since
# the full (its verification compares the full and the diff with the
# frozen disk, so a range it missed shows as the full's old data). Each set
# restored on its own holds the files as the guest had them at that backup
# and a growing, gapless workload log; the diff restores with the incs
# below it gone; --keep keeps a diff's chain and drops the incs it replaced;
# a SIGKILL during a diff is recovered.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
mkdir "$TB_DIR/content"
head -c 24M /dev/urandom >"$TB_DIR/content/old.bin"
TB_CONTENT="$TB_DIR/content" tb_image "$TB_DIR/vda.qcow2" qcow2 192M vda
tb_image "$TB_DIR/vdb.raw" raw 64M vdb
TB_DISKS_XML="<disk type='file' device='disk'><driver name='qemu' type='qcow2' discard='unmap'/><source file='$TB_DIR/vda.qcow2'/><target dev='vda' bus='virtio'/></disk>"
tb_disk_file vdb "$TB_DIR/vdb.raw" raw
tb_start_domain vm
tb_wait_agent vm

backup() { tb_tool backup --state-dir "$state" -o "$dest" "$@" vm; }
level_of() { xmllint --xpath 'string(/virtsnap-manifest/level/@kind)' "$1/manifest.xml"; }
parent_of() { xmllint --xpath 'string(/virtsnap-manifest/level/@parent)' "$1/manifest.xml"; }
guest() { tb_guest_exec vm "$1"; }
sums() { tb_guest_sums vm; }
restored_sums() { tb_image_sums "$1"; }

# Each point: the guest's change, its files' sums, the backup.
ids=() sets=() expected=()
point() { # LEVEL SCRIPT
    [ -z "$2" ] || guest "$2" >/dev/null
    expected+=("$(sums)")
    local set
    set=$(backup --level "$1" 2>"$TB_DIR/err") || tb_fail "--level $1 failed: $(cat "$TB_DIR/err")"
    tb_verified_by_default "$set" || tb_fail "the $1 was not verified: $(cat "$set/manifest.xml")"
    sets+=("$set")
    ids+=("$(basename "$set")")
}
point full ""
point inc 'dd if=/dev/urandom of=/mnt/vda/a.bin bs=1M count=8 2>/dev/null'
point inc 'dd if=/dev/urandom of=/mnt/vda/b.bin bs=1M count=8 2>/dev/null && dd if=/dev/zero of=/mnt/vda/a.bin bs=1M count=8 conv=notrunc 2>/dev/null'
point diff 'rm /mnt/vda/b.bin /mnt/vda/old.bin && sync && fstrim /mnt/vda && dd if=/dev/urandom of=/mnt/vda/c.bin bs=1M count=4 2>/dev/null'
point inc 'dd if=/dev/urandom of=/mnt/vda/d.bin bs=1M count=2 2>/dev/null'

[ "$(level_of "${sets[3]}")" = diff ] && [ "$(parent_of "${sets[3]}")" = "${ids[0]}" ] ||
    tb_fail "set 4 is $(level_of "${sets[3]}") on $(parent_of "${sets[3]}"), expected a diff on the full ${ids[0]}"
[ "$(level_of "${sets[4]}")" = inc ] && [ "$(parent_of "${sets[4]}")" = "${ids[3]}" ] ||
    tb_fail "the inc after the diff is $(level_of "${sets[4]}") on $(parent_of "${sets[4]}"), expected on ${ids[3]}"
for disk in vda vdb; do
    qemu-img info -U "${sets[3]}/$disk.qcow2" | grep -q "backing file: ../${ids[0]}/$disk.qcow2" ||
        tb_fail "the diff's $disk does not name the full's image: $(qemu-img info -U "${sets[3]}/$disk.qcow2")"
done
# Sizes: an inc holds about its own writes, and the zeros the guest wrote
# over a.bin as zero clusters (metadata, no data); the diff holds the 4 MiB
# written since and the ranges the incs changed that still matter, a.bin's
# zeros and the trimmed b.bin and old.bin as zero clusters; less than the
# full.
kib() { du -k "$1" | cut -f1; }
full_kib=$(kib "${sets[0]}/vda.qcow2") inc_kib=$(kib "${sets[1]}/vda.qcow2") diff_kib=$(kib "${sets[3]}/vda.qcow2")
zeros_kib=$(kib "${sets[2]}/vda.qcow2")
[ "$inc_kib" -ge 8192 ] && [ "$inc_kib" -lt 16384 ] || tb_fail "the inc of 8 MiB written takes $inc_kib KiB"
[ "$zeros_kib" -ge 8192 ] && [ "$zeros_kib" -lt 12288 ] ||
    tb_fail "the inc of 8 MiB of data and 8 MiB of zeros written takes $zeros_kib KiB"
[ "$diff_kib" -ge 4096 ] && [ "$diff_kib" -lt 8192 ] && [ "$diff_kib" -lt $((full_kib * 2 / 3)) ] ||
    tb_fail "the diff takes $diff_kib KiB (the full $full_kib KiB)"
tb_log "vda: full $full_kib KiB, inc $inc_kib KiB, inc with zeros $zeros_kib KiB, diff $diff_kib KiB"

# Every point restored on its own: the guest's files at that backup, and
# a workload log that grows without a gap.
previous=0
for i in "${!sets[@]}"; do
    out="$TB_DIR/restored$i"
    tb_tool restore -q "${sets[$i]}" -o "$out" >/dev/null 2>"$TB_DIR/err" || tb_fail "restoring set $((i + 1)) failed: $(cat "$TB_DIR/err")"
    qemu-img info "$out/vda.qcow2" | grep -q "backing file" && tb_fail "restored set $((i + 1)) still has a backing file"
    got=$(restored_sums "$out/vda.qcow2")
    [ "$got" = "${expected[$i]}" ] || tb_fail "set $((i + 1)) ($(level_of "${sets[$i]}")) holds files $got, the guest had ${expected[$i]}"
    records=$(tb_gapless "$out/vda.qcow2" qcow2)
    [ "$records" -gt "$previous" ] || tb_fail "set $((i + 1)) holds $records workload records, set $i $previous"
    previous=$records
    rm -rf "$out"
done
tb_tool verify -q --chain "${sets[4]}" >/dev/null 2>"$TB_DIR/err" || tb_fail "verify --chain through the diff: $(cat "$TB_DIR/err")"
tb_tool list "$dest" | grep "${ids[3]}" | grep -q "diff .*${ids[0]}" || tb_fail "list does not show the diff on the full: $(tb_tool list "$dest")"

# The diff needs only the full: with the incs below it moved away it restores.
mkdir "$TB_DIR/aside"
mv "${sets[1]}" "${sets[2]}" "$TB_DIR/aside/"
tb_tool restore -q "${sets[4]}" -o "$TB_DIR/alone" >/dev/null 2>"$TB_DIR/err" || tb_fail "the chain through the diff needs the incs: $(cat "$TB_DIR/err")"
mv "$TB_DIR/aside/"* "$dest/vm/"

# A SIGKILL after the record moved on to a diff, before the overlay below
# was merged: --recover finishes it; the next inc is on that diff.
sleep 1
tb_kill_at change-record-saved backup --state-dir "$state" -o "$dest" --level diff vm
killed=$(ls -1 "$dest/vm" | sort | tail -1)
tb_tool commit --state-dir "$state" --recover vm 2>"$TB_DIR/err" || tb_fail "--recover after a killed diff: $(cat "$TB_DIR/err")"
[ -f "$dest/vm/$killed/complete" ] && [ "$(level_of "$dest/vm/$killed")" = diff ] || tb_fail "the killed diff's set is not a complete diff"
[ "$(parent_of "$dest/vm/$killed")" = "${ids[0]}" ] || tb_fail "the second diff is not on the full"
# --keep 2: the newest inc and the diff it is on stay, with the full; the
# incs the diff replaced go.
sleep 1
last=$(backup --level inc --keep 2 2>"$TB_DIR/err") || tb_fail "inc --keep 2 failed: $(cat "$TB_DIR/err")"
[ "$(parent_of "$last")" = "$killed" ] || tb_fail "the inc after the recovered diff is on $(parent_of "$last")"
[ "$(ls -1 "$dest/vm" | sort | tr '\n' ' ')" = "${ids[0]} $killed $(basename "$last") " ] ||
    tb_fail "--keep 2 left $(ls -1 "$dest/vm" | tr '\n' ' '), expected the full, the diff and the inc"
tb_tool verify -q --chain "$last" >/dev/null 2>"$TB_DIR/err" || tb_fail "the kept chain does not verify: $(cat "$TB_DIR/err")"
tb_tool commit --state-dir "$state" --end-tracking vm 2>"$TB_DIR/err" || tb_fail "--end-tracking failed: $(cat "$TB_DIR/err")"
[ -z "$(find "$TB_DIR" -maxdepth 1 -name '*.virtsnap-*')" ] || tb_fail "overlays left at the end"
tb_pass "full, inc, inc, diff, inc with writes, zeros, deletes and fstrim: each point restores as the guest had it; the diff needs only the full; SIGKILL during a diff recovered; --keep keeps a diff's chain"
