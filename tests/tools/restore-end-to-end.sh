#!/bin/bash
# backup -> restore -> define -> boot: the restored domain runs beside the
# original, and its disks hold the backup's point in time. One file comes
# back through libguestfs. A damaged backup is refused with the chunk's
# offset and nothing restored; bad input changes nothing; a domain's own
# images are replaced only with --force and only while it is shut off.
. "$(dirname "$0")/../functions.sh"
tb_init
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg

state="$TB_DIR/state"
dest="$TB_DIR/backups"
images="$TB_DIR/vm"
mkdir -p "$images"
chmod 755 "$images"
tb_image "$images/base.qcow2" qcow2 256M vda
# The top image has options worth keeping (they were lost by other tools
# on restore): a restore must
# bring back its cluster size and lazy refcounts.
qemu-img create -q -f qcow2 -o cluster_size=131072,lazy_refcounts=on -F qcow2 -b "$images/base.qcow2" "$images/vda.qcow2"
tb_image "$images/vdb.raw" raw 128M vdb
tb_disk_file vda "$images/vda.qcow2" qcow2
tb_disk_file vdb "$images/vdb.raw" raw
tb_start_domain vm
tb_wait_agent vm
sleep 3
set=$(tb_tool backup -q --state-dir "$state" -o "$dest" vm) || tb_fail "the backup failed"
a=$(tb_gapless "$set/vda.qcow2" qcow2)
b=$(tb_gapless "$set/vdb.qcow2" qcow2)
tb_guest_file "$set/vda.qcow2" qcow2 /workload.log >"$TB_DIR/backup.log"

restore() { tb_tool restore "$@"; }

# Restore and define beside the original, then boot it.
out="$TB_DIR/restored"
TB_DOMAINS+=(vm-restored)
restore "$set" -o "$out" --define vm-restored >"$TB_DIR/paths" 2>"$TB_DIR/err" ||
    tb_fail "the restore failed: $(cat "$TB_DIR/err")"
[ "$(cat "$TB_DIR/paths")" = "$(printf '%s\n' "$(realpath "$out")/vda.qcow2" "$(realpath "$out")/vdb.raw" "$(realpath "$out")/domain.xml")" ] ||
    tb_fail "restore printed (vda back as qcow2, vdb as raw): $(cat "$TB_DIR/paths")"
qemu-img info "$out/vda.qcow2" | grep -q "cluster_size: 131072" || tb_fail "the restored vda lost its cluster size"
qemu-img info "$out/vda.qcow2" | grep -q "lazy refcounts: true" || tb_fail "the restored vda lost its lazy refcounts"
[ "$(du -k "$out/vdb.raw" | cut -f1)" -lt 65536 ] || tb_fail "the restored raw vdb is not sparse"
virsh_ dumpxml --inactive vm-restored >"$TB_DIR/restored.xml"
grep -q "<driver name=.qemu. type=.raw./>" "$TB_DIR/restored.xml" || tb_fail "the restored vdb is not defined as raw: $(grep -A2 "<disk" "$TB_DIR/restored.xml")"
[ "$(stat -c %a "$out/vda.qcow2")" = 600 ] || tb_fail "a restored image is not private"
qemu-img info "$out/vda.qcow2" | grep -q "backing file" && tb_fail "the restored vda still has a backing file"
[ "$(tb_gapless "$out/vda.qcow2" qcow2)" -eq "$a" ] && [ "$(tb_gapless "$out/vdb.raw" raw)" -eq "$b" ] ||
    tb_fail "the restored disks do not hold the backup's point in time"
tb_sources vm-restored --inactive | grep -q "vda $(realpath "$out")/vda.qcow2" ||
    tb_fail "the defined domain's vda is $(tb_sources vm-restored --inactive)"
[ "$(virsh_ domuuid vm-restored)" != "$(virsh_ domuuid vm)" ] || tb_fail "the restored domain kept the UUID"
virsh_ start vm-restored >/dev/null 2>"$TB_DIR/start.err" || tb_fail "the restored domain does not start: $(cat "$TB_DIR/start.err")"
tb_wait_agent vm-restored
virsh_ destroy vm-restored >/dev/null
# Its log begins with exactly the backup's records (the workload then
# starts again from 1 after the boot).
tb_guest_file "$out/vda.qcow2" qcow2 /workload.log | head -n "$(wc -l <"$TB_DIR/backup.log")" >"$TB_DIR/restored.log"
cmp -s "$TB_DIR/backup.log" "$TB_DIR/restored.log" || tb_fail "the restored domain's log does not begin with the backup's"
tb_log "restored domain booted; its log begins with the backup's $a records"

# One file: both disks hold /workload.log, so --disk must choose.
status=0
restore "$set" --file /workload.log --to "$TB_DIR/one.log" 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 3 ] || tb_fail "--file found on two disks: exit $status, expected 3: $(cat "$TB_DIR/err")"
grep -q "choose the disk with --disk" "$TB_DIR/err" || tb_fail "no hint to use --disk: $(cat "$TB_DIR/err")"
restore -q "$set" --disk vdb --file /workload.log --to "$TB_DIR/one.log" || tb_fail "the file restore failed"
tb_guest_file "$set/vdb.qcow2" qcow2 /workload.log | cmp -s - "$TB_DIR/one.log" || tb_fail "the restored file differs"
[ "$(stat -c %a "$TB_DIR/one.log")" = 600 ] || tb_fail "the restored file is not private"

# A damaged backup: refused with the chunk's offset, nothing restored.
damaged="$TB_DIR/damaged/vm/$(basename "$set")"
mkdir -p "$(dirname "$damaged")"
cp -a "$set" "$damaged"
offset=$(qemu-img map -f qcow2 --output=json "$damaged/vdb.qcow2" | jq '[.[] | select(.data)][0].offset')
printf '\xff' | dd of="$damaged/vdb.qcow2" bs=1 seek=$((offset + 1000)) conv=notrunc status=none
status=0
restore "$damaged" -o "$TB_DIR/from-damaged" 2>"$TB_DIR/err" >/dev/null || status=$?
[ "$status" -eq 4 ] || tb_fail "a damaged backup: exit $status, expected 4: $(cat "$TB_DIR/err")"
grep -q "disk 'vdb'.*damaged chunk(s) of 64 MiB at offset 0" "$TB_DIR/err" || tb_fail "the damaged chunk is not named: $(cat "$TB_DIR/err")"
[ -z "$(ls -A "$TB_DIR/from-damaged")" ] || tb_fail "a damaged restore left files: $(ls -A "$TB_DIR/from-damaged")"

# Bad input: one error line, a documented status, nothing changed.
tb_expect_error 3 "is not a backup set" restore "$TB_DIR" -o "$TB_DIR/x"
rm "$damaged/complete"
tb_expect_error 5 "is incomplete" restore "$damaged" -o "$TB_DIR/x"
tb_expect_error 3 "has no disk 'vdz'" restore "$set" --disk vdz -o "$TB_DIR/x"
sum=$(sha256sum <"$out/vda.qcow2")
tb_expect_error 5 "already exists" restore "$set" -o "$out"
[ "$(sha256sum <"$out/vda.qcow2")" = "$sum" ] || tb_fail "a refused restore changed an image"
tb_expect_error 5 "domain 'vm' already exists" restore "$set" -o "$TB_DIR/y" --define vm
[ -e "$TB_DIR/x" ] || [ -e "$TB_DIR/y" ] && tb_fail "a refused restore created its directory"

# Over the domain's own images: never while it runs; with --force once it is off.
# (The running guest writes to vda.qcow2 itself, so its inode and the
# directory's listing are what a replacement would change.)
inode=$(stat -c %i "$images/vda.qcow2")
listing=$(ls -A "$images")
tb_expect_error 5 "image of running domain 'vm'" restore "$set" --disk vda --force -o "$images"
[ "$(stat -c %i "$images/vda.qcow2")" = "$inode" ] && [ "$(ls -A "$images")" = "$listing" ] ||
    tb_fail "a running domain's image was touched: $(ls -A "$images")"
virsh_ destroy vm >/dev/null
tb_expect_error 5 "already exists (an image of domain 'vm')" restore "$set" --disk vda -o "$images"
restore -q --force "$set" --disk vda -o "$images" >/dev/null || tb_fail "the restore over the shut-off domain failed"
[ "$(tb_gapless "$images/vda.qcow2" qcow2)" -eq "$a" ] || tb_fail "vm's vda does not hold the backup"
virsh_ start vm >/dev/null || tb_fail "vm does not start on its restored vda"
tb_wait_agent vm
tb_pass "restore -> define -> boot holds the backup's instant; one file restored; damage and bad input refused"
