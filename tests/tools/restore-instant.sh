#!/bin/bash
# virtsnap-restore --instant: a two-disk guest's restore point (a full and an
# inc, through --until latest) boots at once on images backed by the sets;
# the guest agent answers while the data is still being pulled (--bandwidth
# keeps the pull slow); what the guest writes meanwhile is in the final
# images; afterwards they have no backing file, the untouched disk equals a
# plain restore of the same point, the domain names no set, and every set
# file is as it was (content, owner, mode), its checksums verify. A
# restore killed with SIGKILL mid-pull is completed by --finish (a second
# one has nothing to do) and retention keeps the sets meanwhile; a second
# instant restore of the same point, ending last, puts back the owners the
# set had before both; one stopped
# with SIGTERM exits 130 naming --finish, which completes it offline once
# the domain is shut off. A set that does not match its checksums ends in
# exit 4 with the domain left running. Refused: a name already defined, a
# DIR inside the set's storage, a DIR whose name the record cannot hold.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
images="$TB_DIR/vm"
mkdir -p "$images" "$TB_DIR/content"
chmod 755 "$images"
# vda: 48 MiB of data to pull; vdb: raw data without a filesystem, so the
# guest never mounts (and so never writes) it.
head -c 48M /dev/urandom >"$TB_DIR/content/data.bin"
TB_CONTENT="$TB_DIR/content" tb_image "$images/vda.qcow2" qcow2 256M vda
head -c 16M /dev/urandom >"$images/vdb.raw"
truncate -s 64M "$images/vdb.raw"
tb_disk_file vda "$images/vda.qcow2" qcow2
tb_disk_file vdb "$images/vdb.raw" raw
tb_start_domain vm no-workload
tb_wait_agent vm

backup() { tb_tool backup -q --state-dir "$state" -o "$dest" "$@" vm; }
restore() { tb_tool restore --state-dir "$state" "$@"; }
set_files() { find "$dest" -type f -print0 | sort -z | xargs -0 stat -c '%n %s %a %U %G %Y'; }
set_sums() { find "$dest" -type f -print0 | sort -z | xargs -0 md5sum; }
set_dirs() { find "$dest" -type d -print0 | sort -z | xargs -0 stat -c '%n %a %U %G'; }
still_backed() { qemu-img info -U "$1" | grep -q "backing file"; }

set1=$(backup --level full) || tb_fail "the full backup failed"
tb_guest_exec vm 'echo one >/mnt/vda/one.txt; sync' >/dev/null
set2=$(backup --level inc) || tb_fail "the inc backup failed"
[ "$(xmllint --xpath 'string(/virtsnap-manifest/level/@kind)' "$set2/manifest.xml")" = inc ] ||
    tb_fail "the second backup is not an inc"
virsh_ destroy vm >/dev/null
set_files >"$TB_DIR/files.before"
set_sums >"$TB_DIR/sums.before"
set_dirs >"$TB_DIR/dirs.before"

# Refused before any change.
TB_DOMAINS+=(vm-instant vm-killed vm-second vm-stopped vm-plain)
tb_expect_error 5 "domain 'vm' already exists" restore -q "$dest/vm" --until latest -o "$TB_DIR/r0" --define vm --instant
tb_expect_error 5 "the backup's own storage" restore -q "$dest/vm" --until latest -o "$set2/r" --define vm-instant --instant
tb_expect_error 5 "the backup's own storage" restore -q "$set2" -o "$dest/vm/elsewhere" --define vm-instant --instant
tb_expect_error 2 "--instant needs -o DIR and --define" restore -q "$set2" -o "$TB_DIR/r0" --instant
tb_expect_error 2 "--format raw" restore -q "$set2" -o "$TB_DIR/r0" --define vm-instant --instant --format raw
ctl_dir="$TB_DIR/r$(printf '\001')x"
tb_expect_error 5 "cannot hold its paths" restore -q "$set2" -o "$ctl_dir" --define vm-instant --instant
[ ! -e "$ctl_dir" ] || tb_fail "a restore refused for its output directory's name left it made"
[ ! -e "$TB_DIR/r0" ] && [ ! -e "$set2/r" ] && [ ! -e "$dest/vm/elsewhere" ] || tb_fail "a refused restore made a directory"
virsh_ dominfo vm-instant >/dev/null 2>&1 && tb_fail "a refused restore defined the domain"
cmp -s "$TB_DIR/files.before" <(set_files) || tb_fail "a refused restore changed the sets"

# The plain restore of the same point, for comparison, and its time to an
# answering agent.
start=$(date +%s%N)
restore -q "$dest/vm" --until latest -o "$TB_DIR/plain" --define vm-plain >/dev/null || tb_fail "the plain restore failed"
virsh_ start vm-plain >/dev/null || tb_fail "the plain restore does not start"
tb_wait_agent vm-plain
plain_ms=$((($(date +%s%N) - start) / 1000000))
virsh_ destroy vm-plain >/dev/null

# The instant restore.
out="$TB_DIR/instant"
start=$(date +%s%N)
"$TB_BUILD_DIR/tools/virtsnap-restore" --state-dir "$state" "$dest/vm" --until latest -o "$out" --define vm-instant --instant --bandwidth 3 2>"$TB_DIR/instant.err" &
pid=$!
tb_wait_agent vm-instant
instant_ms=$((($(date +%s%N) - start) / 1000000))
kill -0 "$pid" 2>/dev/null || tb_fail "the pull was over before the agent answered: $(cat "$TB_DIR/instant.err")"
tb_log "agent answering after ${instant_ms} ms (instant) against ${plain_ms} ms (restore, define, start)"
[ -f "$state/vm-instant.instant" ] || tb_fail "no instant-restore record while the pull runs"
qemu-img info -U "$out/vda.qcow2" | grep -q "backing file: $set2/vda.qcow2" ||
    tb_fail "vda is not backed by the set's image: $(qemu-img info -U "$out/vda.qcow2")"
# Retention keeps the sets while the domain reads them (the pin).
status=0
tb_guest_exec vm-instant 'head -c 2M /dev/urandom >/mnt/vda/new.bin; sync; md5sum </mnt/vda/new.bin' >"$TB_DIR/new.md5"
tb_guest_exec vm-instant 'cat /mnt/vda/one.txt' | grep -q one || tb_fail "the inc's file is not in the instant guest"
wait "$pid" || status=$?
[ "$status" -eq 0 ] || tb_fail "the instant restore failed ($status): $(cat "$TB_DIR/instant.err")"
grep -q "matches its checksums" "$TB_DIR/instant.err" || tb_fail "the set's checksums were not reported: $(cat "$TB_DIR/instant.err")"
total_ms=$((($(date +%s%N) - start) / 1000000))
tb_log "pull over after ${total_ms} ms"
for disk in vda vdb; do
    still_backed "$out/$disk.qcow2" && tb_fail "$disk still has a backing file: $(qemu-img info -U "$out/$disk.qcow2")"
done
virsh_ dumpxml vm-instant | grep -q "$dest" && tb_fail "the live definition still names the sets"
virsh_ dumpxml --inactive vm-instant | grep -q "$dest" && tb_fail "the persistent definition still names the sets"
[ ! -e "$state/vm-instant.instant" ] || tb_fail "the record is left"
# QEMU keeps an image's cluster tables in its cache; the restore makes it
# write them back before it ends (a crash must not find an image without
# its data and without the backing file that held it): read from outside
# while the guest still runs, vdb holds the whole restore point.
qemu-img compare -U -q -f qcow2 -F raw "$out/vdb.qcow2" "$TB_DIR/plain/vdb.raw" ||
    tb_fail "the untouched vdb, read while the domain runs, differs from a plain restore (QEMU's caches not written back?)"
virsh_ destroy vm-instant >/dev/null
qemu-img compare -q -f qcow2 -F raw "$out/vdb.qcow2" "$TB_DIR/plain/vdb.raw" ||
    tb_fail "the untouched vdb differs from a plain restore of the same point"
[ "$(tb_guest_file "$out/vda.qcow2" qcow2 /new.bin | md5sum | cut -d' ' -f1)" = "$(tr -d ' -' <"$TB_DIR/new.md5")" ] ||
    tb_fail "what the guest wrote during the pull is not in vda"
[ "$(tb_guest_file "$out/vda.qcow2" qcow2 /data.bin | md5sum)" = "$(md5sum <"$TB_DIR/content/data.bin")" ] ||
    tb_fail "the backed-up data is not in vda"
[ "$(tb_guest_file "$out/vda.qcow2" qcow2 /one.txt)" = one ] || tb_fail "the inc's file is not in vda"
cmp -s "$TB_DIR/files.before" <(set_files) || tb_fail "the sets changed: $(diff "$TB_DIR/files.before" <(set_files))"
cmp -s "$TB_DIR/sums.before" <(set_sums) || tb_fail "a set file's content changed"
cmp -s "$TB_DIR/dirs.before" <(set_dirs) || tb_fail "a set directory changed: $(diff "$TB_DIR/dirs.before" <(set_dirs))"
tb_tool verify -q "$set2" >/dev/null || tb_fail "the restore point does not verify"
tb_log "instant restore complete; the sets are unchanged"

# SIGKILL mid-pull: the domain runs on, the record stays, retention keeps
# the sets; --finish waits for the pull and completes; a second has
# nothing to do.
"$TB_BUILD_DIR/tools/virtsnap-restore" --state-dir "$state" "$dest/vm" --until latest -o "$TB_DIR/killed" --define vm-killed --instant --bandwidth 2 2>"$TB_DIR/killed.err" &
pid=$!
tb_wait_agent vm-killed
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
[ -f "$state/vm-killed.instant" ] || tb_fail "no record after SIGKILL"
still_backed "$TB_DIR/killed/vda.qcow2" || tb_fail "vda of the killed restore is already standalone"
virsh_ start vm >/dev/null
tb_wait_agent vm
set3=$(tb_tool backup --state-dir "$state" -o "$dest" --level full --keep 1 vm 2>"$TB_DIR/keep.err") || tb_fail "the backup with --keep 1 failed: $(cat "$TB_DIR/keep.err")"
[ -d "$set1" ] && [ -d "$set2" ] || tb_fail "retention removed a set the instant restore reads: $(cat "$TB_DIR/keep.err")"
grep -q "restored with --instant still reads it" "$TB_DIR/keep.err" ||
    tb_fail "retention does not say why it keeps the sets: $(cat "$TB_DIR/keep.err")"
virsh_ destroy vm >/dev/null
# A second instant restore of the same point while the first still runs on
# it: it finds the set's files with QEMU's user and records what the first
# found. The first, completed meanwhile, leaves them to the second; the
# second, completed last, puts back the owners they had before both.
owner_before=$(awk -v f="$set2/vda.qcow2" '$1 == f { print $4 ":" $5 }' "$TB_DIR/files.before")
[ -n "$owner_before" ] || tb_fail "no recorded owner of $set2/vda.qcow2"
"$TB_BUILD_DIR/tools/virtsnap-restore" --state-dir "$state" "$set2" -o "$TB_DIR/second" --define vm-second --instant --bandwidth 1 2>"$TB_DIR/second.err" &
pid=$!
tb_wait_agent vm-second
owner_running=$(stat -c %U:%G "$set2/vda.qcow2")
[ "$owner_running" != "$owner_before" ] || tb_fail "libvirt did not hand the set's files to QEMU's user ($owner_running)"
restore --finish vm-killed --bandwidth 50 2>"$TB_DIR/finish.err" || tb_fail "--finish failed: $(cat "$TB_DIR/finish.err")"
[ "$(stat -c %U:%G "$set2/vda.qcow2")" = "$owner_running" ] ||
    tb_fail "the first restore to end took the set's files from QEMU while another restore runs on them ($(stat -c %U:%G "$set2/vda.qcow2"), was $owner_running): $(cat "$TB_DIR/finish.err")"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
restore --finish vm-second --bandwidth 50 2>"$TB_DIR/second-finish.err" ||
    tb_fail "--finish of the second restore failed: $(cat "$TB_DIR/second-finish.err")"
[ "$(stat -c %U:%G "$set2/vda.qcow2")" = "$owner_before" ] ||
    tb_fail "the last restore to end did not put back the owner the set had before both: $(stat -c %U:%G "$set2/vda.qcow2")"
virsh_ destroy vm-second >/dev/null
still_backed "$TB_DIR/killed/vda.qcow2" && tb_fail "vda still has a backing file after --finish"
still_backed "$TB_DIR/killed/vdb.qcow2" && tb_fail "vdb still has a backing file after --finish"
[ ! -e "$state/vm-killed.instant" ] || tb_fail "the record is left after --finish"
restore --finish vm-killed 2>"$TB_DIR/finish2.err" || tb_fail "a second --finish failed: $(cat "$TB_DIR/finish2.err")"
grep -q "nothing to do" "$TB_DIR/finish2.err" || tb_fail "a second --finish does not say so: $(cat "$TB_DIR/finish2.err")"
virsh_ destroy vm-killed >/dev/null
[ "$(tb_guest_file "$TB_DIR/killed/vda.qcow2" qcow2 /data.bin | md5sum)" = "$(md5sum <"$TB_DIR/content/data.bin")" ] ||
    tb_fail "the data is not in vda after --finish"
tb_log "a restore killed mid-pull is completed by --finish"

# SIGTERM: exit 130 naming --finish; the domain shut off, --finish rebases
# offline.
"$TB_BUILD_DIR/tools/virtsnap-restore" --state-dir "$state" "$dest/vm" --until latest -o "$TB_DIR/stopped" --define vm-stopped --instant --bandwidth 1 2>"$TB_DIR/stopped.err" &
pid=$!
tb_wait_agent vm-stopped
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 130 ] || tb_fail "SIGTERM: exit $status, expected 130: $(cat "$TB_DIR/stopped.err")"
grep -q "virtsnap-restore --finish vm-stopped" "$TB_DIR/stopped.err" ||
    tb_fail "the message does not name --finish: $(cat "$TB_DIR/stopped.err")"
virsh_ destroy vm-stopped >/dev/null
restore --finish vm-stopped 2>"$TB_DIR/offline.err" || tb_fail "the offline --finish failed: $(cat "$TB_DIR/offline.err")"
grep -q "is not running; copying the backing data" "$TB_DIR/offline.err" || tb_fail "--finish did not rebase offline: $(cat "$TB_DIR/offline.err")"
still_backed "$TB_DIR/stopped/vda.qcow2" && tb_fail "vda still has a backing file after the offline --finish"
qemu-img compare -q -f qcow2 -F raw "$TB_DIR/stopped/vdb.qcow2" "$TB_DIR/plain/vdb.raw" ||
    tb_fail "the offline vdb differs from a plain restore"
[ "$(tb_guest_file "$TB_DIR/stopped/vda.qcow2" qcow2 /data.bin | md5sum)" = "$(md5sum <"$TB_DIR/content/data.bin")" ] ||
    tb_fail "the data is not in vda after the offline --finish"
virsh_ start vm-stopped >/dev/null || tb_fail "the domain does not start on its standalone images"
tb_wait_agent vm-stopped

for set in "$set1" "$set2"; do
    grep "^$set/" "$TB_DIR/files.before" | cmp -s - <(set_files | grep "^$set/") ||
        tb_fail "set $set changed: $(diff <(grep "^$set/" "$TB_DIR/files.before") <(set_files | grep "^$set/"))"
done
cmp -s <(grep "^[0-9a-f]* *$set2/" "$TB_DIR/sums.before") <(set_sums | grep " $set2/") || tb_fail "set 2's content changed"
tb_tool verify -q "$set2" >/dev/null || tb_fail "the restore point does not verify at the end"

# A set that does not match its checksums: found beside the pull, reported
# at the end (exit 4) with the domain left running on standalone images.
mkdir -p "$TB_DIR/damaged"
cp -a "$dest/vm" "$TB_DIR/damaged/vm"
damaged="$TB_DIR/damaged/vm/$(basename "$set3")"
offset=$(qemu-img map -f qcow2 --output=json "$damaged/vdb.qcow2" | jq '[.[] | select(.data)][0].offset')
printf '\xff' | dd of="$damaged/vdb.qcow2" bs=1 seek=$((offset + 1000)) conv=notrunc status=none
TB_DOMAINS+=(vm-damaged)
status=0
restore "$TB_DIR/damaged/vm" --until latest -o "$TB_DIR/from-damaged" --define vm-damaged --instant \
    2>"$TB_DIR/damaged.err" || status=$?
[ "$status" -eq 4 ] || tb_fail "a damaged set: exit $status, expected 4: $(cat "$TB_DIR/damaged.err")"
grep -q "RUNS ON DATA FROM A DAMAGED SET" "$TB_DIR/damaged.err" || tb_fail "no loud message: $(cat "$TB_DIR/damaged.err")"
virsh_ domstate vm-damaged | grep -q running || tb_fail "the domain on a damaged set was not left running"
still_backed "$TB_DIR/from-damaged/vdb.qcow2" && tb_fail "vdb from a damaged set still has a backing file"
[ ! -e "$state/vm-damaged.instant" ] || tb_fail "the record of a completed restore from a damaged set is left"
tb_pass "instant restore: agent after ${instant_ms} ms (plain ${plain_ms} ms), pull ${total_ms} ms; SIGKILL and SIGTERM completed by --finish; a damaged set reported"
