#!/bin/bash
# virtsnap-backup --level inc when the change record cannot be used: an
# incremental by content on the previous set (the whole disk read, its
# 64 KiB block sums compared with those the set keeps, only the blocks that
# differ written). The record is broken two ways: (a) the guest destroyed,
# the kept overlay of vda committed into its image by hand, the guest
# started again (as backup-incremental.sh does); (b) 'virtsnap-commit
# --end-tracking' and the record file removed. Each time --level inc gives
# an inc by content on the previous set, says why (stderr, manifest, list),
# its vda layer holds about what the guest wrote, and the next inc is a
# normal one on it. Every set restored holds the files the guest had. A
# damaged .blocks file in the previous set gives a full, saying why.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
mkdir "$TB_DIR/content"
head -c 32M /dev/urandom >"$TB_DIR/content/old.bin"
TB_CONTENT="$TB_DIR/content" tb_image "$TB_DIR/vda.qcow2" qcow2 192M vda
tb_image "$TB_DIR/vdb.raw" raw 64M vdb
tb_disk_file vda "$TB_DIR/vda.qcow2" qcow2
tb_disk_file vdb "$TB_DIR/vdb.raw" raw
tb_start_domain vm
tb_wait_agent vm
uuid=$(virsh_ domuuid vm)
record="$state/$uuid.tracking"

backup() { tb_tool backup --state-dir "$state" -o "$dest" "$@" vm; }
level_of() { xmllint --xpath 'string(/virtsnap-manifest/level/@kind)' "$1/manifest.xml"; }
parent_of() { xmllint --xpath 'string(/virtsnap-manifest/level/@parent)' "$1/manifest.xml"; }
by_of() { xmllint --xpath 'string(/virtsnap-manifest/level/@by)' "$1/manifest.xml"; }
reason_of() { xmllint --xpath 'string(/virtsnap-manifest/level/@reason)' "$1/manifest.xml"; }
kib() { du -k "$1" | cut -f1; }
guest() { tb_guest_exec vm "$1"; }
sums() { tb_guest_sums vm; }
restored_sums() { tb_image_sums "$1"; }
restart_guest() {
    virsh_ start vm >/dev/null 2>"$TB_DIR/start.err" || tb_fail "the domain does not start: $(cat "$TB_DIR/start.err")"
    tb_wait_agent vm
    for _ in $(seq 60); do guest 'test -d /mnt/vda' 2>/dev/null && break; sleep 1; done
}

# Each point: its files' sums (taken just before the backup), the set.
sets=() expected=() set=""
take() { # LEVEL NAME: a backup at LEVEL into $set; its stderr in $TB_DIR/NAME.err
    expected+=("$(sums)")
    set=$(backup --level "$1" 2>"$TB_DIR/$2.err") || tb_fail "$2: --level $1 failed: $(cat "$TB_DIR/$2.err")"
    tb_verified_by_default "$set" || tb_fail "$2 was not verified: $(cat "$set/manifest.xml")"
    sets+=("$set")
}
# by_content SET PARENT WHY NAME: SET is an inc by content on PARENT, saying WHY.
by_content() {
    local set=$1 parent=$2 why=$3 name=$4
    [ "$(level_of "$set")" = inc ] && [ "$(by_of "$set")" = content ] && [ "$(parent_of "$set")" = "$(basename "$parent")" ] ||
        tb_fail "$name is $(level_of "$set") ($(by_of "$set")) on $(parent_of "$set"), expected an inc by content on $(basename "$parent"): $(cat "$TB_DIR/$name.err")"
    grep -q "inc asked for, inc by content on the set $(basename "$parent") taken" "$TB_DIR/$name.err" ||
        tb_fail "$name: stderr does not say it is by content: $(cat "$TB_DIR/$name.err")"
    grep -q -- "$why" "$TB_DIR/$name.err" && reason_of "$set" | grep -q -- "$why" ||
        tb_fail "$name: the reason does not say '$why': $(reason_of "$set")"
    for disk in vda vdb; do
        qemu-img info -U "$set/$disk.qcow2" | grep -q "backing file: ../$(basename "$parent")/$disk.qcow2" ||
            tb_fail "$name's $disk does not name the previous set's image: $(qemu-img info -U "$set/$disk.qcow2")"
        [ -f "$set/$disk.blocks" ] || tb_fail "$name keeps no block sums of $disk"
    done
}
# A set's vda layer holds about what the guest wrote (MiB): at least that,
# and well under the full's 32 MiB of data (the guest's workload log and
# its filesystem's journal and metadata add some).
small() { # SET MIB NAME
    local got
    got=$(kib "$1/vda.qcow2")
    [ "$got" -ge $(($2 * 1024)) ] && [ "$got" -lt $((($2 + 12) * 1024)) ] ||
        tb_fail "$3's vda takes $got KiB after $2 MiB written (the full $(kib "${sets[0]}/vda.qcow2") KiB)"
    tb_log "$3: vda layer $got KiB after $2 MiB written"
}

# 1. The first inc: a full (no record, no set to compare with); every disk
# keeps its block sums, recorded in the manifest.
take inc first
full=$set
[ "$(level_of "$full")" = full ] || tb_fail "the first inc is $(level_of "$full")"
grep -q "not by content either: there is no complete full, inc or diff set" "$TB_DIR/first.err" ||
    tb_fail "the first full does not say why not by content: $(cat "$TB_DIR/first.err")"
for disk in vda vdb; do
    [ -f "$full/$disk.blocks" ] || tb_fail "the full keeps no $disk.blocks"
    grep -q "<block-sums name=\"$disk.blocks\" block-size=\"65536\" checksum=\"xxh3-128:" "$full/manifest.xml" ||
        tb_fail "the manifest does not record $disk.blocks"
done
# 1/8192 of the disk and a 32-byte header: 192 MiB of vda, 24 KiB.
[ "$(stat -c %s "$full/vda.blocks")" -eq $((192 * 1024 * 1024 / 8192 + 32)) ] ||
    tb_fail "vda.blocks is $(stat -c %s "$full/vda.blocks") bytes"

# 2. (a) The kept overlay of vda committed into its image by hand while
# the guest was off: the record no longer holds.
guest 'dd if=/dev/urandom of=/mnt/vda/a.bin bs=1M count=4 2>/dev/null' >/dev/null
sums >/dev/null # synced
virsh_ destroy vm >/dev/null
kept=$(tb_sources vm --inactive | awk '$1 == "vda" { print $2 }')
qemu-img commit -q "$kept" || tb_fail "the hand-made commit failed"
restart_guest
take inc a
a=$set
by_content "$a" "$full" "changed since the change record was written" a
small "$a" 4 "the inc by content after a hand-made commit"
[ -f "$record" ] || tb_fail "no change record after the inc by content"
tb_sources vm | grep -q "vda .*virtsnap-$(basename "$a").vda.qcow2" || tb_fail "vda is not on the new kept overlay: $(tb_sources vm)"
sleep 1
guest 'dd if=/dev/urandom of=/mnt/vda/b.bin bs=1M count=2 2>/dev/null' >/dev/null
take inc after-a
after_a=$set
[ "$(level_of "$after_a")" = inc ] && [ -z "$(by_of "$after_a")" ] && [ "$(parent_of "$after_a")" = "$(basename "$a")" ] ||
    tb_fail "the inc after the one by content is $(level_of "$after_a") ($(by_of "$after_a")) on $(parent_of "$after_a")"
[ -z "$(reason_of "$after_a")" ] || tb_fail "the normal inc gives a reason: $(reason_of "$after_a")"
small "$after_a" 2 "the inc after it"
[ -f "$after_a/vda.blocks" ] || tb_fail "a normal inc keeps no block sums"

# 3. (b) --end-tracking, and the record file gone.
tb_tool commit --state-dir "$state" --end-tracking vm 2>"$TB_DIR/end.err" || tb_fail "--end-tracking failed: $(cat "$TB_DIR/end.err")"
rm -f "$record"
guest 'dd if=/dev/urandom of=/mnt/vda/c.bin bs=1M count=3 2>/dev/null && rm /mnt/vda/a.bin && sync && fstrim /mnt/vda || true' >/dev/null
sleep 1
take inc b
b=$set
by_content "$b" "$after_a" "the domain has no change record" b
small "$b" 3 "the inc by content after --end-tracking"
sleep 1
guest 'dd if=/dev/urandom of=/mnt/vda/d.bin bs=1M count=1 2>/dev/null' >/dev/null
take inc after-b
after_b=$set
[ "$(level_of "$after_b")" = inc ] && [ -z "$(by_of "$after_b")" ] && [ "$(parent_of "$after_b")" = "$(basename "$b")" ] ||
    tb_fail "the inc after the second by content is $(level_of "$after_b") ($(by_of "$after_b")) on $(parent_of "$after_b")"

# list --json shows why.
tb_tool list --json "$dest" | jq -e --arg id "$(basename "$b")" \
    '[.. | objects | select(.set? == $id or .id? == $id)][0] | .level == "inc" and (.level_reason | test("by content"))' >/dev/null ||
    tb_fail "list --json does not give the inc by content's reason: $(tb_tool list --json "$dest")"

# 4. Every point restored on its own holds the guest's files; the chain verifies.
for i in "${!sets[@]}"; do
    out="$TB_DIR/restored$i"
    tb_tool restore -q "${sets[$i]}" -o "$out" >/dev/null 2>"$TB_DIR/restore.err" || tb_fail "restoring set $((i + 1)) failed: $(cat "$TB_DIR/restore.err")"
    got=$(restored_sums "$out/vda.qcow2")
    [ "$got" = "${expected[$i]}" ] || tb_fail "set $((i + 1)) ($(level_of "${sets[$i]}") $(by_of "${sets[$i]}")) holds files $got, the guest had ${expected[$i]}"
    rm -rf "$out"
done
tb_tool verify -q --chain --checksums "$after_b" >/dev/null 2>"$TB_DIR/verify.err" || tb_fail "verify --chain: $(cat "$TB_DIR/verify.err")"

# 5. The previous set's block sums damaged: a full, saying why.
tb_tool commit --state-dir "$state" --end-tracking vm 2>"$TB_DIR/end.err" || tb_fail "--end-tracking failed: $(cat "$TB_DIR/end.err")"
printf '\xff' | dd of="$after_b/vda.blocks" bs=1 seek=100 conv=notrunc status=none
sleep 1
take inc damaged
damaged=$set
[ "$(level_of "$damaged")" = full ] || tb_fail "an inc on damaged block sums is $(level_of "$damaged")"
grep -q "inc asked for, full taken: the domain has no change record.*; not by content either: .*does not match the checksum" "$TB_DIR/damaged.err" ||
    tb_fail "the full does not say why: $(cat "$TB_DIR/damaged.err")"
reason_of "$damaged" | grep -q "does not match the checksum" || tb_fail "the manifest does not say why: $(reason_of "$damaged")"

# 6. Records that cannot carry an incremental, and no set to compare with
# either: each a full, saying why. Another destination (whose domain
# directory holds no set yet):
elsewhere="$TB_DIR/elsewhere"
full_because() { # NAME WHY: the last set is a full whose reason says WHY
    [ "$(level_of "$set")" = full ] || tb_fail "$1: $(level_of "$set") ($(by_of "$set")), expected a full: $(cat "$TB_DIR/$1.err")"
    grep -q "$2" "$TB_DIR/$1.err" && reason_of "$set" | grep -q "$2" ||
        tb_fail "$1: the full does not say '$2': $(cat "$TB_DIR/$1.err")"
}
sleep 1
set=$(tb_tool backup --state-dir "$state" -o "$elsewhere" --level inc vm 2>"$TB_DIR/other.err") || tb_fail "an inc to another destination failed: $(cat "$TB_DIR/other.err")"
full_because other "continues the sets in '$dest/vm', not in '$elsewhere/vm'"
# The previous set gone (moved away):
mkdir "$TB_DIR/aside"
mv "$set" "$TB_DIR/aside/"
sleep 1
set=$(tb_tool backup --state-dir "$state" -o "$elsewhere" --level inc vm 2>"$TB_DIR/gone.err") || tb_fail "an inc whose previous set is gone failed: $(cat "$TB_DIR/gone.err")"
full_because gone "the previous set of the chain cannot be used"
# A disk resized since (vdb, grown by 32 MiB while the guest runs):
virsh_ blockresize vm vdb 96M >/dev/null || tb_fail "blockresize failed"
sleep 1
set=$(tb_tool backup --state-dir "$state" -o "$elsewhere" --level inc vm 2>"$TB_DIR/resized.err") || tb_fail "an inc after a resize failed: $(cat "$TB_DIR/resized.err")"
full_because resized "disk 'vdb' was resized since the previous set"
[ "$(qemu-img info --output=json -U "$set/vdb.qcow2" | jq '."virtual-size"')" -eq $((96 << 20)) ] || tb_fail "the full after the resize does not hold vdb's new size"
# A disk added since (vdc, attached to the running guest):
qemu-img create -q -f raw "$TB_DIR/vdc.raw" 16M
virsh_ attach-disk vm "$TB_DIR/vdc.raw" vdc --driver qemu --subdriver raw --live --config >/dev/null || tb_fail "attach-disk failed"
sleep 1
set=$(tb_tool backup --state-dir "$state" -o "$elsewhere" --level inc vm 2>"$TB_DIR/added.err") || tb_fail "an inc after a disk was added failed: $(cat "$TB_DIR/added.err")"
full_because added "disk 'vdc' is not in the change record"
tb_tool restore -q "$set" -o "$TB_DIR/restored-added" >/dev/null 2>"$TB_DIR/restore.err" || tb_fail "restoring the full with the added disk: $(cat "$TB_DIR/restore.err")"
[ "$(restored_sums "$TB_DIR/restored-added/vda.qcow2")" = "$(sums)" ] || tb_fail "the full after the added disk does not hold the guest's files"

tb_tool commit --state-dir "$state" --end-tracking vm 2>"$TB_DIR/end.err" || tb_fail "the last --end-tracking failed: $(cat "$TB_DIR/end.err")"
[ -z "$(find "$TB_DIR" -maxdepth 1 -name '*.virtsnap-*')" ] || tb_fail "overlays left at the end"
tb_pass "inc by content after a hand-made commit and after --end-tracking: small layers on the previous set, the reason on stderr, in the manifest and in list; normal incs after them; every point restores as the guest had it; damaged block sums, another destination, a missing previous set, a resized and an added disk give a full, saying why"
