#!/bin/bash
# virtsnap-mount on the sets of a running guest: the full and an
# incremental restore point mounted read-only (--until), each holding the
# guest's files as of its backup; -u and SIGTERM both end in a clean
# unmount with exit 0 and no mount left, and -u unmounts a mount left stale
# by a SIGKILL; the sets unchanged to the byte and time stamp afterwards,
# and verifying; --nbd serves exactly the disk virtsnap-restore rebuilds,
# on a socket only root may use; a damaged set refused with exit 4 and
# mounted with --force and a warning; a mounted set kept by --keep, saying
# why, and removed by a later run once unmounted.
. "$(dirname "$0")/../functions.sh"
tb_init
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
command -v fusermount3 >/dev/null || tb_skip "fusermount3 is not installed (fuse3)"
[ -c /dev/fuse ] || tb_skip "no /dev/fuse"

# The virtsnap-mount processes this test started are stopped on any exit,
# before tb_cleanup unmounts what is left under TB_DIR.
mount_pids=()
stop_mounts() {
    local pid
    for pid in "${mount_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${mount_pids[@]}"; do wait "$pid" 2>/dev/null; done
}
# (set +e: under errexit the trap would stop at the status it passes on.)
trap 'status=$?; set +e; stop_mounts; (exit $status); tb_cleanup' EXIT

state="$TB_DIR/state"
dest="$TB_DIR/backups"
tb_image "$TB_DIR/vda.qcow2" qcow2 128M vda
tb_disk_file vda "$TB_DIR/vda.qcow2" qcow2
tb_start_domain vm
tb_wait_agent vm

backup() { tb_tool backup -q --state-dir "$state" -o "$dest" "$@" vm; }

# mount_bg NAME ARGS...: starts virtsnap-mount ARGS in the background, its
# stderr in TB_DIR/NAME.err; its PID in $mount_pid (the binary's own, not
# a subshell's: the mount names it, and signals go to it).
mount_bg() {
    local name=$1
    shift
    "$TB_BUILD_DIR/tools/virtsnap-mount" "$@" 2>"$TB_DIR/$name.err" &
    mount_pid=$!
    mount_pids+=("$mount_pid")
}
# wait_ready NAME TEST: until TEST succeeds (the mount or the socket is
# there); fails when virtsnap-mount ends first or after three minutes.
wait_ready() {
    local name=$1
    shift
    for _ in $(seq 900); do
        "$@" && return 0
        kill -0 "$mount_pid" 2>/dev/null || tb_fail "virtsnap-mount ($name) ended before it was ready: $(cat "$TB_DIR/$name.err")"
        sleep 0.2
    done
    tb_fail "virtsnap-mount ($name) was not ready after three minutes: $(cat "$TB_DIR/$name.err")"
}
# end_status: waits for the background virtsnap-mount (in this shell: a
# subshell cannot wait for it); its status in $ended.
end_status() {
    ended=0
    wait "$mount_pid" || ended=$?
}
no_mount_left() {
    ! grep -q "virtsnap-mount:" /proc/self/mountinfo || tb_fail "a virtsnap-mount mount is left: $(grep virtsnap-mount: /proc/self/mountinfo)"
    ! mountpoint -q "$1" || tb_fail "$1 is still a mount"
}
set_files() { # every file of the sets: name, size, mtime, ctime, and its checksum
    find "$dest" -type f -printf '%p %s %T@ %C@\n' | sort
    find "$dest" -type f -exec sha256sum {} + | sort
}

# 1. A full, then known files in the guest, then an incremental.
tb_guest_exec vm 'echo before-full >/mnt/vda/known-full.txt; sync' >/dev/null
set1=$(backup --level full) || tb_fail "the full backup failed"
id1=$(basename "$set1")
tb_guest_exec vm 'echo after-full >/mnt/vda/known-inc.txt; sync' >/dev/null
set2=$(backup --level inc) || tb_fail "the incremental backup failed"
id2=$(basename "$set2")
grep -q 'kind="inc"' "$set2/manifest.xml" || tb_fail "set 2 is not incremental: $(grep '<level' "$set2/manifest.xml")"
set_files >"$TB_DIR/files-before"

# 2. The full: its file, not the later one; -u ends it with 0.
mnt="$TB_DIR/mnt"
mkdir "$mnt"
mount_bg full "$set1" "$mnt"
wait_ready full mountpoint -q "$mnt"
grep -q "mounted read-only on" "$TB_DIR/full.err" || tb_fail "no ready line: $(cat "$TB_DIR/full.err")"
grep -q " $mnt .* fuse.virtsnap-mount virtsnap-mount:$mount_pid " /proc/self/mountinfo ||
    tb_fail "the mount does not name virtsnap-mount and its process: $(grep " $mnt " /proc/self/mountinfo)"
# No OS on the data disk: its one filesystem is on MOUNTPOINT/sda.
[ "$(cat "$mnt/sda/known-full.txt")" = before-full ] || tb_fail "the full's file: $(ls -la "$mnt" "$mnt/sda" 2>&1)"
[ ! -e "$mnt/sda/known-inc.txt" ] || tb_fail "the full holds a file written after it"
touch "$mnt/sda/new" 2>/dev/null && tb_fail "the mount is writable"
tb_tool mount -u "$mnt" || tb_fail "virtsnap-mount -u failed"
# -u returns once the mounting process has ended.
kill -0 "$mount_pid" 2>/dev/null && tb_fail "virtsnap-mount still runs after -u returned"
end_status; [ "$ended" -eq 0 ] || tb_fail "virtsnap-mount ended -u with a failure: $(cat "$TB_DIR/full.err")"
no_mount_left "$mnt"

# 3. The incremental point through --until: both files; SIGTERM ends it
# with a clean unmount and 0.
mount_bg inc "$dest/vm" --until "$id2" "$mnt"
wait_ready inc mountpoint -q "$mnt"
[ "$(cat "$mnt/sda/known-full.txt")" = before-full ] || tb_fail "the inc point lacks the full's file"
[ "$(cat "$mnt/sda/known-inc.txt")" = after-full ] || tb_fail "the inc point lacks its own file"
kill -TERM "$mount_pid"
end_status; [ "$ended" -eq 0 ] || tb_fail "SIGTERM did not end in 0: $(cat "$TB_DIR/inc.err")"
grep -q "unmounted .* on SIGTERM" "$TB_DIR/inc.err" || tb_fail "no unmount line: $(cat "$TB_DIR/inc.err")"
no_mount_left "$mnt"

# 3b. A mount whose virtsnap-mount was killed is stale (ENOTCONN to every
# look): -u still unmounts it.
mount_bg killed "$set1" "$mnt"
wait_ready killed mountpoint -q "$mnt"
kill -KILL "$mount_pid"
end_status
grep -q " $mnt .* fuse.virtsnap-mount " /proc/self/mountinfo || tb_fail "SIGKILL left no stale mount to test -u on"
tb_tool mount -u "$mnt" || tb_fail "virtsnap-mount -u failed on a stale mount"
no_mount_left "$mnt"

# 4. -u refuses what virtsnap-mount did not mount.
tb_expect_error 5 "is not a virtsnap-mount mount" mount -u /proc
tb_expect_error 3 "nothing is mounted" mount -u "$mnt"

# 5. --nbd: the incremental point's disk, as virtsnap-restore rebuilds it.
restored=$(tb_tool restore -q "$dest/vm" --until "$id2" -o "$TB_DIR/restored" --format raw | grep '/vda.raw$') ||
    tb_fail "the restore of set 2 failed"
sock="$TB_DIR/vda.sock"
mount_bg nbd "$dest/vm" --until "$id2" --nbd "$sock"
wait_ready nbd test -S "$sock"
[ "$(stat -c %a "$sock")" = 700 ] || tb_fail "the socket is not root's alone: $(stat -c %A "$sock")"
qemu-img compare -f raw "$restored" "nbd+unix:///?socket=$sock" >/dev/null ||
    tb_fail "the NBD export differs from the restored disk"
qemu-img info "nbd+unix:///?socket=$sock" >/dev/null || tb_fail "a second client was refused"
qemu-io -c "write 0 4k" "nbd+unix:///?socket=$sock" >/dev/null 2>&1 && tb_fail "the NBD export is writable"
kill -TERM "$mount_pid"
end_status; [ "$ended" -eq 0 ] || tb_fail "--nbd did not end in 0 on SIGTERM: $(cat "$TB_DIR/nbd.err")"
[ ! -e "$sock" ] || tb_fail "the socket is left"
tb_expect_error 2 "holds several disks\|one disk" mount "$set2" --nbd "$sock" -d vda -d vdb
touch "$sock"
tb_expect_error 5 "exists" mount -q "$set2" --nbd "$sock"
rm -f "$sock"

# 6. Nothing of the sets changed: no byte, no time stamp; they verify.
set_files >"$TB_DIR/files-after"
diff "$TB_DIR/files-before" "$TB_DIR/files-after" >&2 || tb_fail "mounting changed the sets"
tb_tool verify -q --checksums --chain "$set2" >/dev/null 2>"$TB_DIR/verify.err" ||
    tb_fail "set 2 does not verify after the mounts: $(cat "$TB_DIR/verify.err")"

# 7. A damaged copy: refused with 4; --force mounts it with a warning.
copy="$TB_DIR/copy"
mkdir "$copy"
cp -a "$dest/vm" "$copy/vm"
image="$copy/vm/$id2/vda.qcow2"
offset=$(qemu-img map --output=json -f qcow2 "$image" |
    jq '[.[] | select(.data and (.zero | not) and .depth == 0 and has("offset"))][0].offset + 100')
[ "$offset" != null ] || tb_fail "set 2's layer holds no data cluster"
byte=$(dd if="$image" bs=1 skip="$offset" count=1 status=none | od -An -tu1 | tr -d ' ')
printf "\\x$(printf %02x $((byte ^ 255)))" | dd of="$image" bs=1 seek="$offset" conv=notrunc status=none
tb_expect_error 4 "checksum mismatch" mount -q "$copy/vm/$id2" "$mnt"
no_mount_left "$mnt"
tb_expect_error 4 "nothing was exported" mount -q "$copy/vm/$id2" --nbd "$sock"
[ ! -e "$sock" ] || tb_fail "a refused export left its socket"
mount_bg forced --force "$copy/vm/$id2" "$mnt"
wait_ready forced mountpoint -q "$mnt"
grep -q "warning: mounted although damaged (--force): disk 'vda' of backup set '$copy/vm/$id2'" "$TB_DIR/forced.err" ||
    tb_fail "no warning naming the damage: $(cat "$TB_DIR/forced.err")"
tb_tool mount -u "$mnt" || tb_fail "-u of the forced mount failed"
end_status; [ "$ended" -eq 0 ] || tb_fail "the forced mount did not end in 0: $(cat "$TB_DIR/forced.err")"

# 8. While the incremental point is mounted, --keep 1 keeps it and the
# full below it, saying why; once unmounted, a later run removes them.
mount_bg pinned "$dest/vm" --until "$id2" "$mnt"
wait_ready pinned mountpoint -q "$mnt"
set3=$(tb_tool backup --state-dir "$state" -o "$dest" --level full --keep 1 vm 2>"$TB_DIR/keep.err") ||
    tb_fail "the backup while mounted failed: $(cat "$TB_DIR/keep.err")"
[ -d "$set1" ] && [ -d "$set2" ] || tb_fail "--keep 1 removed a mounted set: $(ls "$dest/vm")"
grep -q "$id2.* is in use" "$TB_DIR/keep.err" || tb_fail "retention does not say why set 2 stays: $(cat "$TB_DIR/keep.err")"
grep -q "$id1.*\(is in use\|depends on it\)" "$TB_DIR/keep.err" || tb_fail "retention does not say why set 1 stays: $(cat "$TB_DIR/keep.err")"
kill -TERM "$mount_pid"
end_status; [ "$ended" -eq 0 ] || tb_fail "the pinned mount did not end in 0: $(cat "$TB_DIR/pinned.err")"
no_mount_left "$mnt"
set4=$(backup --level full --keep 1) || tb_fail "the backup after the unmount failed"
[ ! -e "$set1" ] && [ ! -e "$set2" ] && [ ! -e "$set3" ] ||
    tb_fail "the sets were not removed once unmounted: $(ls "$dest/vm")"
[ -d "$set4" ] || tb_fail "the newest set is gone"

tb_pass "mount, --until, -u, SIGTERM, --nbd, --force, pins"
