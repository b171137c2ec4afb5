#!/bin/bash
# virtsnap-backup --level full and inc on a running guest whose workload
# keeps writing: the first inc (no change record) takes a full and says why;
# the domain then runs on the kept overlays; each inc is one qcow2 layer per
# disk backed by the previous set's image, holding about what changed, and
# the chain reads as the guest's disks at that backup; the kept overlay of
# the previous run is merged away. A copy on a tracked domain leaves the
# record alone; a record broken by hand gives an inc by content;
# --end-tracking brings the domain back to exactly its own images.
# --keep 2 --synthetic-full (forever incremental) makes the oldest kept set
# a full of its own, every kept point restoring as it was, also after a run
# killed right after its swap.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
# vda: 48 MiB of data a full copies and an inc must not.
TB_BASE="$TB_DIR/base.qcow2" TB_TOP="$TB_DIR/top.qcow2" TB_RAW="$TB_DIR/data.raw"
mkdir "$TB_DIR/content"
head -c 48M /dev/urandom >"$TB_DIR/content/data.bin"
TB_CONTENT="$TB_DIR/content" tb_image "$TB_BASE" qcow2 256M vda
tb_image "$TB_TOP" qcow2 256M vda "$TB_BASE" qcow2
tb_image "$TB_RAW" raw 128M vdb
tb_disk_file vda "$TB_TOP" qcow2
tb_disk_file vdb "$TB_RAW" raw
tb_start_domain vm
tb_wait_agent vm
uuid=$(virsh_ domuuid vm)
record="$state/$uuid.tracking"

backup() { tb_tool backup --state-dir "$state" -o "$dest" "$@" vm; }
level_of() { xmllint --xpath 'string(/virtsnap-manifest/level/@kind)' "$1/manifest.xml"; }
parent_of() { xmllint --xpath 'string(/virtsnap-manifest/level/@parent)' "$1/manifest.xml"; }
overlays() { find "$TB_DIR" -maxdepth 1 -name '*.virtsnap-*' -printf '%f\n' | sort; }

# 1. inc without a record: a full, and why.
set1=$(backup --level inc 2>"$TB_DIR/err1") || tb_fail "the first inc failed: $(cat "$TB_DIR/err1")"
[ "$(level_of "$set1")" = full ] || tb_fail "the first inc was not taken as a full: $(level_of "$set1")"
grep -q "inc asked for, full taken: the domain has no change record" "$TB_DIR/err1" ||
    tb_fail "the fallback is not explained on stderr: $(cat "$TB_DIR/err1")"
grep -q 'reason="inc asked for, full taken' "$set1/manifest.xml" || tb_fail "the manifest does not say why"
[ -f "$record" ] || tb_fail "no change record after a full"
id1=$(basename "$set1")
tb_sources vm | grep -q "vda .*virtsnap-$id1.vda.qcow2" || tb_fail "vda is not on its kept overlay: $(tb_sources vm)"
tb_sources vm --inactive | grep -q "vda .*virtsnap-$id1.vda.qcow2" ||
    tb_fail "the persistent definition does not name the kept overlay: $(tb_sources vm --inactive)"
a1=$(tb_gapless "$set1/vda.qcow2" qcow2)

# 2. Two incrementals while the workload writes.
sleep 3
set2=$(backup --level inc 2>"$TB_DIR/err2") || tb_fail "the second inc failed: $(cat "$TB_DIR/err2")"
id2=$(basename "$set2")
[ "$(level_of "$set2")" = inc ] && [ "$(parent_of "$set2")" = "$id1" ] ||
    tb_fail "set 2 is $(level_of "$set2") on $(parent_of "$set2"): $(cat "$TB_DIR/err2")"
tb_verified_by_default "$set2" || tb_fail "the inc was not verified: $(cat "$set2/manifest.xml")"
for disk in vda vdb; do
    qemu-img info -U "$set2/$disk.qcow2" | grep -q "backing file: ../$id1/$disk.qcow2" ||
        tb_fail "set 2's $disk does not name set 1's image: $(qemu-img info -U "$set2/$disk.qcow2")"
done
full_bytes=$(du -k "$set1/vda.qcow2" | cut -f1)
inc_bytes=$(du -k "$set2/vda.qcow2" | cut -f1)
[ "$inc_bytes" -lt $((full_bytes / 8)) ] || tb_fail "the inc's vda takes ${inc_bytes} KiB against the full's ${full_bytes} KiB"
[ "$(overlays)" = "$(printf '%s\n' "top.virtsnap-$id2.vda.qcow2" "data.virtsnap-$id2.vdb.qcow2" | sort)" ] ||
    tb_fail "overlays left after the inc: $(overlays)"
sleep 3
set3=$(backup --level inc 2>"$TB_DIR/err3") || tb_fail "the third inc failed: $(cat "$TB_DIR/err3")"
[ "$(parent_of "$set3")" = "$id2" ] || tb_fail "set 3 is not on set 2"
a2=$(tb_gapless "$set2/vda.qcow2" qcow2)
a3=$(tb_gapless "$set3/vda.qcow2" qcow2)
b3=$(tb_gapless "$set3/vdb.qcow2" qcow2)
[ "$a1" -lt "$a2" ] && [ "$a2" -lt "$a3" ] && [ "$b3" -gt 0 ] ||
    tb_fail "the chain does not read as the guest at each backup: records $a1, $a2, $a3 (vdb $b3)"
tb_log "full $id1 then inc, inc: vda records $a1 < $a2 < $a3; inc vda ${inc_bytes} KiB vs full ${full_bytes} KiB"

# 3. A copy on a tracked domain: the record and the overlays stay as they were.
copy=$(backup 2>"$TB_DIR/err4") || tb_fail "a copy of a tracked domain failed: $(cat "$TB_DIR/err4")"
[ "$(level_of "$copy")" = copy ] || tb_fail "the copy's level is $(level_of "$copy")"
tb_sources vm | grep -q "vda .*virtsnap-$(basename "$set3").vda.qcow2" || tb_fail "the copy moved vda: $(tb_sources vm)"
set4=$(backup --level inc 2>"$TB_DIR/err5") || tb_fail "an inc after a copy failed: $(cat "$TB_DIR/err5")"
[ "$(parent_of "$set4")" = "$(basename "$set3")" ] || tb_fail "the inc after a copy is not on set 3"
# A level policy: with three incrementals above the full, --full-every 3
# takes a full (and says why); --full-every 4 would not have.
setf=$(backup --level inc --full-every 3 2>"$TB_DIR/errf") || tb_fail "--full-every failed: $(cat "$TB_DIR/errf")"
[ "$(level_of "$setf")" = full ] && grep -q "holds 3 incremental(s) since its full (--full-every 3)" "$TB_DIR/errf" ||
    tb_fail "--full-every 3 after three incs: $(level_of "$setf"): $(cat "$TB_DIR/errf")"

# 4. An incremental restore point: standalone images equal to the chain,
# every layer checked; verify --chain; list shows the chain.
out="$TB_DIR/restored"
tb_tool restore -q "$set3" -o "$out" >/dev/null 2>"$TB_DIR/err8" || tb_fail "restoring an inc failed: $(cat "$TB_DIR/err8")"
qemu-img info "$out/vda.qcow2" | grep -q "backing file" && tb_fail "the restored vda still has a backing file"
qemu-img compare -q -f qcow2 -F qcow2 "$set3/vda.qcow2" "$out/vda.qcow2" || tb_fail "the restored vda differs from the chain"
qemu-img compare -f qcow2 -F raw "$set3/vdb.qcow2" "$out/vdb.raw" >"$TB_DIR/cmp" 2>&1 || tb_fail "the restored vdb differs from the chain: $(cat "$TB_DIR/cmp"; qemu-img info "$out/vdb.raw"; qemu-img info --backing-chain "$set3/vdb.qcow2")"
[ "$(tb_gapless "$out/vda.qcow2" qcow2)" -eq "$a3" ] || tb_fail "the restored vda is not set 3's point in time"
tb_tool verify -q --chain "$set3" 2>"$TB_DIR/err9" || tb_fail "verify --chain of set 3 failed: $(cat "$TB_DIR/err9")"
tb_tool list "$dest" >"$TB_DIR/list" || tb_fail "list failed"
grep "$(basename "$set3")" "$TB_DIR/list" | grep -q "inc .*$id2" || tb_fail "list does not show set 3 as an inc on set 2: $(cat "$TB_DIR/list")"
tb_tool list --json "$dest" | jq -e --arg id "$(basename "$set3")" --arg p "$id2" \
    '[.. | objects | select(.set? == $id or .id? == $id)][0] | .level == "inc" and .parent == $p' >/dev/null ||
    tb_fail "list --json does not give set 3's level and parent"

# 5. SIGKILL after the change record moved on, before the kept overlay
# below was merged: --recover finishes the merge, the domain stays tracked.
sleep 2
tb_kill_at change-record-saved backup --state-dir "$state" -o "$dest" --level inc vm
killed=$(grep -o "$dest/vm/[0-9a-z-]*" "$TB_DIR/stopped.err" | head -1)
tb_tool commit --state-dir "$state" --recover vm 2>"$TB_DIR/err10" || tb_fail "--recover after the kill failed: $(cat "$TB_DIR/err10")"
k=$(ls -1 "$dest/vm" | sort | tail -1)
[ -f "$dest/vm/$k/complete" ] || tb_fail "the killed run's set is not complete"
tb_sources vm | grep -q "vda .*virtsnap-$k.vda.qcow2" || tb_fail "after the recovery vda is $(tb_sources vm)"
[ "$(overlays | wc -l)" -eq 2 ] || tb_fail "overlays after the recovery: $(overlays)"
# SIGKILL after the set was complete, before its overlays were kept: the
# recovery merges them back; the record still names the set before.
sleep 2
tb_kill_at before-commit backup --state-dir "$state" -o "$dest" --level inc vm
tb_tool commit --state-dir "$state" --recover vm 2>"$TB_DIR/err11" || tb_fail "the second --recover failed: $(cat "$TB_DIR/err11")"
tb_sources vm | grep -q "vda .*virtsnap-$k.vda.qcow2" || tb_fail "after the second recovery vda is $(tb_sources vm)"
set6=$(backup --level inc 2>"$TB_DIR/err12") || tb_fail "an inc after the recoveries failed: $(cat "$TB_DIR/err12")"
[ "$(parent_of "$set6")" = "$k" ] || tb_fail "the inc after the recoveries is on $(parent_of "$set6"), not $k"
tb_tool verify -q --chain "$set6" 2>"$TB_DIR/err13" || tb_fail "verify --chain after the recoveries: $(cat "$TB_DIR/err13")"

# 6. Shut off, the kept overlays are frozen: an offline inc.
virsh_ shutdown vm >/dev/null 2>&1 || true
for _ in $(seq 60); do [ "$(virsh_ domstate vm)" = "shut off" ] && break; sleep 1; done
[ "$(virsh_ domstate vm)" = "shut off" ] || virsh_ destroy vm >/dev/null
set7=$(backup --level inc 2>"$TB_DIR/err14") || tb_fail "the offline inc failed: $(cat "$TB_DIR/err14")"
[ "$(level_of "$set7")" = inc ] && [ "$(parent_of "$set7")" = "$(basename "$set6")" ] ||
    tb_fail "the offline inc is $(level_of "$set7") on $(parent_of "$set7"): $(cat "$TB_DIR/err14")"
virsh_ start vm >/dev/null || tb_fail "the tracked domain does not start again"
tb_wait_agent vm
sleep 2
set8=$(backup --level inc 2>"$TB_DIR/err15") || tb_fail "the inc after the restart failed: $(cat "$TB_DIR/err15")"
[ "$(parent_of "$set8")" = "$(basename "$set7")" ] || tb_fail "the inc after the restart is not on the offline one"
tb_tool verify -q --chain "$set8" 2>"$TB_DIR/err16" || tb_fail "verify --chain of the last inc: $(cat "$TB_DIR/err16")"

# The guest gone during an inc (destroyed while the copy waits): the run
# still ends with its set complete, the kept overlay merged offline, and a
# domain that starts again.
tb_stop_at before-commit backup --state-dir "$state" -o "$dest" --level inc vm
virsh_ destroy vm >/dev/null
kill -CONT "$TB_STOPPED_PID"
wait "$TB_STOPPED_PID" || tb_fail "the inc whose guest was destroyed failed: $(cat "$TB_DIR/stopped.err")"
gone=$(cat "$TB_DIR/stopped.out")
[ -f "$gone/complete" ] || tb_fail "the inc whose guest was destroyed left no complete set"
[ "$(overlays | wc -l)" -eq 2 ] || tb_fail "overlays after the offline keep: $(overlays)"
virsh_ start vm >/dev/null 2>"$TB_DIR/start.err" || tb_fail "the domain does not start after an offline keep: $(cat "$TB_DIR/start.err")"
tb_wait_agent vm

# A record that no longer holds: with the guest off, its kept overlay is
# committed into the disk's own image by hand. The next inc is one by
# content on the previous set (tests/tools/backup-content-inc.sh), and says
# why; the one after is a normal inc again.
virsh_ destroy vm >/dev/null
kept=$(tb_sources vm --inactive | awk '$1 == "vda" { print $2 }')
qemu-img commit -q "$kept" || tb_fail "the hand-made commit failed"
set_h=$(backup --level inc 2>"$TB_DIR/errh") || tb_fail "the inc after a hand-made commit failed: $(cat "$TB_DIR/errh")"
[ "$(level_of "$set_h")" = inc ] && [ "$(parent_of "$set_h")" = "$(basename "$gone")" ] &&
    grep -q "inc by content on the set $(basename "$gone") taken.*changed since the change record was written" "$TB_DIR/errh" ||
    tb_fail "an inc on a record that no longer holds: $(level_of "$set_h") on $(parent_of "$set_h"): $(cat "$TB_DIR/errh")"
virsh_ start vm >/dev/null || tb_fail "the domain does not start after the hand-made commit"
tb_wait_agent vm
sleep 2
set_i=$(backup --level inc 2>"$TB_DIR/erri") || tb_fail "the inc after the full failed: $(cat "$TB_DIR/erri")"
[ "$(parent_of "$set_i")" = "$(basename "$set_h")" ] || tb_fail "the inc after the full is not on it: $(cat "$TB_DIR/erri")"
tb_tool verify -q --chain "$set_i" 2>/dev/null || tb_fail "the inc after the full does not verify"

# 7. --end-tracking: back on exactly the original images, no overlay left.
tb_tool commit -v --state-dir "$state" --end-tracking vm 2>"$TB_DIR/err6" || tb_fail "--end-tracking failed: $(cat "$TB_DIR/err6")"
[ "$(tb_sources vm)" = "$(printf 'vda %s\nvdb %s' "$TB_TOP" "$TB_RAW")" ] || tb_fail "after --end-tracking: $(tb_sources vm): $(cat "$TB_DIR/err6")"
[ "$(tb_sources vm --inactive)" = "$(printf 'vda %s\nvdb %s' "$TB_TOP" "$TB_RAW")" ] ||
    tb_fail "after --end-tracking, persistent: $(tb_sources vm --inactive)"
[ -z "$(overlays)" ] || tb_fail "overlays left after --end-tracking: $(overlays)"
[ -f "$record" ] && tb_fail "the change record is still there"
qemu-img info -U "$TB_TOP" | grep -q "backing file: $TB_BASE" || tb_fail "vda's own chain changed"
# (An inc here would be one by content on set_i: backup-content-inc.sh.)
set9=$(backup --level full 2>"$TB_DIR/err7") || tb_fail "a full after --end-tracking failed"
[ "$(level_of "$set9")" = full ] || tb_fail "a full after --end-tracking was not a full"

# 8. --keep counts restore points but never breaks a chain: keeping one
# keeps the new inc and the full below it.
sleep 2
set10=$(backup --level inc --keep 1 2>"$TB_DIR/err17") || tb_fail "inc --keep 1 failed: $(cat "$TB_DIR/err17")"
[ "$(ls -1 "$dest/vm" | sort | tr '\n' ' ')" = "$(basename "$set9") $(basename "$set10") " ] ||
    tb_fail "--keep 1 left $(ls -1 "$dest/vm" | tr '\n' ' '), expected the full and its inc"
tb_tool verify -q --chain "$set10" 2>/dev/null || tb_fail "the kept chain does not verify"

# ---- BEGIN restore --until, list --tree, broken chains (branch restore-until) ----
# Here, where the domain's directory holds just the full set 9 and the inc
# set 10 on it (the newest set, so --summary and --until latest must pass
# it over once its chain is broken).
id9=$(basename "$set9") id10=$(basename "$set10")
tb_tool restore -q "$set10" -o "$TB_DIR/r10" >"$TB_DIR/r10.out" 2>"$TB_DIR/err-r10" || tb_fail "restoring set 10: $(cat "$TB_DIR/err-r10")"
# --until SET_ID: the same restore as the set given directly.
tb_tool restore -q "$dest/vm" --until "$id10" -o "$TB_DIR/u10" >"$TB_DIR/u10.out" 2>"$TB_DIR/err-u10" ||
    tb_fail "restore --until $id10 failed: $(cat "$TB_DIR/err-u10")"
[ "$(sed "s|/u10/|/DIR/|" "$TB_DIR/u10.out")" = "$(sed "s|/r10/|/DIR/|" "$TB_DIR/r10.out")" ] ||
    tb_fail "--until wrote other files: $(cat "$TB_DIR/u10.out")"
qemu-img compare -q -f qcow2 -F qcow2 "$TB_DIR/r10/vda.qcow2" "$TB_DIR/u10/vda.qcow2" && cmp -s "$TB_DIR/r10/vdb.raw" "$TB_DIR/u10/vdb.raw" ||
    tb_fail "--until $id10 restored other content than $set10"
diff <(sed "s|$TB_DIR/u10/|DIR/|g" "$TB_DIR/u10/domain.xml") <(sed "s|$TB_DIR/r10/|DIR/|g" "$TB_DIR/r10/domain.xml") >"$TB_DIR/u10.diff" ||
    tb_fail "--until wrote another domain.xml: $(cat "$TB_DIR/u10.diff")"
tb_tool restore "$dest/vm" --until latest --disk vdb -o "$TB_DIR/latest" >/dev/null 2>"$TB_DIR/err-latest" ||
    tb_fail "restore --until latest failed: $(cat "$TB_DIR/err-latest")"
grep -q "is set $id10" "$TB_DIR/err-latest" && cmp -s "$TB_DIR/r10/vdb.raw" "$TB_DIR/latest/vdb.raw" ||
    tb_fail "--until latest did not restore set 10: $(cat "$TB_DIR/err-latest")"
# Refused before anything is written: not a set id, a set's own directory,
# no such set, a link by that name.
tb_expect_error 2 "is neither a set id" restore "$dest/vm" --until "../vm/$id10" -o "$TB_DIR/bad"
tb_expect_error 2 "not a domain's directory of sets" restore "$set10" --until "$id10" -o "$TB_DIR/bad"
tb_expect_error 3 "holds no backup set 20200101-000000-000-0000" restore "$dest/vm" --until 20200101-000000-000-0000 -o "$TB_DIR/bad"
ln -s "$set10" "$dest/vm/20200101-000000-000-0001"
tb_expect_error 3 "is a symbolic link" restore "$dest/vm" --until 20200101-000000-000-0001 -o "$TB_DIR/bad"
rm "$dest/vm/20200101-000000-000-0001"
[ -e "$TB_DIR/bad" ] && tb_fail "a refused --until made $TB_DIR/bad"
# --tree: set 10 below its full.
tb_tool list --tree "$dest" vm >"$TB_DIR/tree" || tb_fail "list --tree failed"
grep -q "^  $id9  *full " "$TB_DIR/tree" && grep -q "^    $id10  *inc  *$id9 .*complete\$" "$TB_DIR/tree" ||
    tb_fail "list --tree does not show set 10 below set 9: $(cat "$TB_DIR/tree")"
# The full set gone: set 10 is no restore point any more.
mv "$set9" "$TB_DIR/set9.away"
tb_tool list --json "$dest" vm >"$TB_DIR/broken.json" || tb_fail "list --json failed with a broken chain"
jq -e --arg id "$id10" '.[] | select(.set == $id) | .state == "broken-chain" and (.problem | contains("is missing"))' \
    "$TB_DIR/broken.json" >/dev/null || tb_fail "list --json calls set 10 usable without its full set: $(cat "$TB_DIR/broken.json")"
tb_tool list "$dest" vm >"$TB_DIR/broken.table" || tb_fail "list failed with a broken chain"
grep -q "^vm  *$id10 .*broken-chain: the parent set $id9" "$TB_DIR/broken.table" ||
    tb_fail "the table does not say set 10's chain is broken: $(cat "$TB_DIR/broken.table")"
status=0
tb_tool list --summary "$dest" vm >"$TB_DIR/summary" || status=$?
[ "$status" -eq 2 ] && grep -q "^VIRTSNAP CRITICAL: vm: no complete backup set" "$TB_DIR/summary" ||
    tb_fail "--summary with set 10's full set gone: exit $status: $(cat "$TB_DIR/summary")"
tb_tool list --tree "$dest" vm >"$TB_DIR/broken.tree" || tb_fail "list --tree failed with a broken chain"
grep -q "^  $id10  *inc  *$id9 (orphan)  .*broken-chain: " "$TB_DIR/broken.tree" ||
    tb_fail "list --tree does not show set 10 as an orphan: $(cat "$TB_DIR/broken.tree")"
status=0
tb_tool restore "$dest/vm" --until latest -o "$TB_DIR/bad" >/dev/null 2>"$TB_DIR/err-latest2" || status=$?
[ "$status" -eq 3 ] && grep -q "passed over .*broken-chain" "$TB_DIR/err-latest2" && [ ! -e "$TB_DIR/bad" ] ||
    tb_fail "--until latest on a broken chain: exit $status: $(cat "$TB_DIR/err-latest2")"
mv "$TB_DIR/set9.away" "$set9"
# ---- END restore --until, list --tree, broken chains ----

# 9. A damaged full: verify --chain and the restore of the inc on it say so.
offset=$(qemu-img map -f qcow2 --output=json "$set9/vda.qcow2" | jq '[.[] | select(.data)][0].offset')
printf '\xff' | dd of="$set9/vda.qcow2" bs=1 seek=$((offset + 1000)) conv=notrunc status=none
status=0
tb_tool verify -q --chain "$set10" 2>"$TB_DIR/err18" || status=$?
[ "$status" -eq 4 ] && grep -q "$(basename "$set9")" "$TB_DIR/err18" || tb_fail "verify --chain of a damaged chain: exit $status: $(cat "$TB_DIR/err18")"
status=0
tb_tool restore -q "$set10" -o "$TB_DIR/from-damaged" >/dev/null 2>"$TB_DIR/err19" || status=$?
[ "$status" -eq 4 ] || tb_fail "restoring onto a damaged full: exit $status: $(cat "$TB_DIR/err19")"
tb_tool commit --state-dir "$state" --end-tracking vm 2>/dev/null || tb_fail "the second --end-tracking failed"
[ -z "$(overlays)" ] || tb_fail "overlays left at the end: $(overlays)"
# ---- 10. --keep 2 --synthetic-full (forever incremental) ------------------
# Each inc makes the oldest kept set a full of its own once the chain's full
# is no longer kept; the sets below it go; every kept point restores as it
# was when it was made. A run killed right after its swap is finished by the
# next. Sets go to a destination of their own ($fdest).
fdest="$TB_DIR/forever"
fbackup() { tb_tool backup --state-dir "$state" -o "$fdest" --level inc --keep 2 --synthetic-full "$@" vm; }
fsets() { ls -1 "$fdest/vm" | tr '\n' ' '; }
reason_of() { xmllint --xpath 'string(/virtsnap-manifest/level/@reason)' "$1/manifest.xml"; }
# The point a set holds, flattened, as it was just after the set was made.
take_ref() {
    local d
    for d in vda vdb; do
        qemu-img convert -U -f qcow2 -O qcow2 "$1/$d.qcow2" "$TB_DIR/ref-$(basename "$1")-$d.qcow2" ||
            tb_fail "no reference of $1's $d"
    done
}
# virtsnap-restore of the set equals its reference.
same_point() {
    local out="$TB_DIR/frestored"
    rm -rf "$out"
    tb_tool restore -q "$1" -o "$out" >/dev/null 2>"$TB_DIR/errfr" || tb_fail "restoring $1 failed: $(cat "$TB_DIR/errfr")"
    qemu-img compare -q -f qcow2 -F qcow2 "$TB_DIR/ref-$(basename "$1")-vda.qcow2" "$out/vda.qcow2" ||
        tb_fail "the restored vda of $1 is not the point it was"
    qemu-img compare -q -f qcow2 -F raw "$TB_DIR/ref-$(basename "$1")-vdb.qcow2" "$out/vdb.raw" ||
        tb_fail "the restored vdb of $1 is not the point it was"
    rm -rf "$out"
}
tb_expect_error 2 "it needs --keep N" backup --state-dir "$state" -o "$fdest" --synthetic-full vm
f1=$(fbackup 2>"$TB_DIR/errf1") || tb_fail "the first forever-incremental run failed: $(cat "$TB_DIR/errf1")"
[ "$(level_of "$f1")" = full ] || tb_fail "the first run after --end-tracking is $(level_of "$f1"), not a full"
take_ref "$f1"
sleep 2
f2=$(fbackup 2>"$TB_DIR/errf2") || tb_fail "inc 2 failed: $(cat "$TB_DIR/errf2")"
take_ref "$f2"
[ "$(fsets)" = "$(basename "$f1") $(basename "$f2") " ] || tb_fail "after inc 2: $(fsets)"
sleep 2
f3=$(fbackup 2>"$TB_DIR/errf3") || tb_fail "inc 3 failed: $(cat "$TB_DIR/errf3")"
take_ref "$f3"
# Kept: set 2 (now a full of its own, merged from 1..2) and set 3 on it.
[ "$(fsets)" = "$(basename "$f2") $(basename "$f3") " ] || tb_fail "after inc 3: $(fsets): $(cat "$TB_DIR/errf3")"
[ "$(level_of "$f2")" = full ] && [ "$(reason_of "$f2")" = "synthetic full: merged from sets $(basename "$f1")..$(basename "$f2") (--synthetic-full)" ] ||
    tb_fail "set 2 is $(level_of "$f2") ($(reason_of "$f2")): $(cat "$TB_DIR/errf3")"
qemu-img info -U "$f2/vda.qcow2" | grep -q "backing file" && tb_fail "the synthetic full's vda has a backing file"
[ "$(parent_of "$f3")" = "$(basename "$f2")" ] || tb_fail "set 3 no longer names set 2"
grep -q "set $(basename "$f2") made a full of its own (--synthetic-full)" "$TB_DIR/errf3" ||
    tb_fail "the summary does not name the synthetic full: $(cat "$TB_DIR/errf3")"
same_point "$f2"
same_point "$f3"
tb_tool verify -q --chain --checksums "$f3" >/dev/null 2>"$TB_DIR/errfv" || tb_fail "verify --chain of set 3: $(cat "$TB_DIR/errfv")"
# Killed right after the swap of the next synthetic full (set 3), before the
# old content and the sets below were removed: every set restores as it
# was; the next run removes what is left and goes on.
sleep 2
tb_kill_at synthetic-swapped backup --state-dir "$state" -o "$fdest" --level inc --keep 2 --synthetic-full vm
f4="$fdest/vm/$(ls -1 "$fdest/vm" | tail -1)"
[ -f "$f4/complete" ] && [ "$(parent_of "$f4")" = "$(basename "$f3")" ] || tb_fail "the killed run left no inc on set 3: $(fsets)"
[ -d "$fdest/vm/.synthetic-$(basename "$f3")" ] || tb_fail "no work directory left by the killed run: $(ls -a "$fdest/vm")"
[ "$(level_of "$f3")" = full ] || tb_fail "set 3 was not swapped before the kill"
take_ref "$f4"
same_point "$f2"
same_point "$f3"
tb_tool verify -q --chain --checksums "$f4" >/dev/null 2>"$TB_DIR/errfv" || tb_fail "verify --chain of set 4 after the kill: $(cat "$TB_DIR/errfv")"
sleep 2
f5=$(fbackup 2>"$TB_DIR/errf5") || tb_fail "the run after the kill failed: $(cat "$TB_DIR/errf5")"
grep -q "removed '$fdest/vm/.synthetic-$(basename "$f3")'" "$TB_DIR/errf5" || tb_fail "the leftover was not removed: $(cat "$TB_DIR/errf5")"
[ "$(ls -A "$fdest/vm" | tr '\n' ' ')" = "$(basename "$f4") $(basename "$f5") " ] || tb_fail "after the run that followed the kill: $(ls -A "$fdest/vm")"
[ "$(level_of "$f4")" = full ] || tb_fail "set 4 was not made a full of its own"
take_ref "$f5"
same_point "$f4"
same_point "$f5"
tb_tool verify -q --chain --checksums "$f5" >/dev/null 2>"$TB_DIR/errfv" || tb_fail "verify --chain of set 5: $(cat "$TB_DIR/errfv")"
# Six more runs with --keep 3 (eleven in all): three restore points are
# kept each time, the oldest a synthetic full, and each is the point it was.
for _ in 1 2 3 4 5 6; do
    sleep 1
    f=$(tb_tool backup --state-dir "$state" -o "$fdest" --level inc --keep 3 --synthetic-full vm 2>"$TB_DIR/errfk") ||
        tb_fail "an inc with --keep 3 --synthetic-full failed: $(cat "$TB_DIR/errfk")"
    take_ref "$f"
    [ "$(ls -1 "$fdest/vm" | wc -l)" -le 3 ] || tb_fail "--keep 3 --synthetic-full keeps $(fsets)"
done
[ "$(level_of "$fdest/vm/$(ls -1 "$fdest/vm" | head -1)")" = full ] || tb_fail "the oldest kept set is not a full: $(fsets)"
for kept in "$fdest/vm"/*; do
    same_point "$kept"
done
tb_tool commit --state-dir "$state" --end-tracking vm 2>/dev/null || tb_fail "the last --end-tracking failed"
[ -z "$(overlays)" ] || tb_fail "overlays left after the forever-incremental runs: $(overlays)"
# ---- end of 10 --------------------------------------------------------------
tb_pass "full, inc, inc, copy, inc; restore, verify --chain, list; SIGKILL and --recover; offline inc; --end-tracking; --keep keeps chains; restore --until, list --tree and broken chains; a damaged full is found; --keep 2 --synthetic-full, killed after its swap; eleven runs with --keep 3 --synthetic-full"
