# shellcheck shell=bash
# The test bed, sourced by every tests/tools/*.sh scenario.
#
#   tb_init                      start libvirtd, build the guest, make a work dir,
#                                arrange cleanup on every exit
#   tb_image PATH FORMAT SIZE LABEL [BACKING BACKING_FORMAT]
#                                an ext4-formatted image (or a qcow2 overlay)
#   tb_loop IMAGE                a loop device over IMAGE, detached on cleanup
#   tb_disk_file TARGET PATH FORMAT / tb_disk_block TARGET DEV / tb_disk_cdrom TARGET ISO
#                                add a disk to the next domain
#   tb_mixed_domain NAME [OPTIONS...]   the standard 4-disk domain: vda qcow2 on a
#                                base (TB_BASE <- TB_TOP), vdb raw with a space and
#                                non-ASCII letters in its path (TB_RAW), vdc a loop
#                                device (TB_LOOP), hdc a cdrom; started
#   tb_start_domain NAME [OPTIONS...]   define and start it; options:
#                                no-agent, hung-agent, no-agent-channel, no-workload,
#                                transient, thaw-fails (every thaw reports
#                                failure), thaw-fails=N (the first N do)
#   tb_wait_agent NAME           wait until its guest agent answers (virsh domtime)
#   tb_guest_file IMAGE FORMAT PATH     a file from an ext4 image, read on the host
#   tb_skip REASON / tb_fail REASON / tb_pass MESSAGE
#
# Every domain, loop device and file made here is removed when the script
# exits, whether it passed or failed.

set -euo pipefail

TB_SOURCE_DIR=${VIRTSNAP_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TB_BUILD_DIR=${VIRTSNAP_BUILD_DIR:-$TB_SOURCE_DIR/build}
TB_URI=qemu:///system
TB_NAME=$(basename "$0" .sh)
TB_DOMAINS=()
TB_DISKS_XML=""
TB_DIR=""

export LIBVIRT_DEFAULT_URI=$TB_URI

tb_log() { echo "[$TB_NAME] $*" >&2; }

tb_fail() {
    tb_log "FAIL: $*"
    exit 1
}

tb_pass() { tb_log "PASS: $*"; }

# A missing requirement skips the test (exit 77) — except in CI, where
# everything is installed and a skip would hide a broken set-up.
tb_skip() {
    if [ "${CI:-}" = true ]; then
        tb_fail "requirement missing in CI: $*"
    fi
    tb_log "SKIP: $*"
    exit 77
}

virsh_() { virsh -q -c "$TB_URI" "$@"; }

tb_cleanup() {
    local status=$?
    set +e
    for dom in "${TB_DOMAINS[@]}"; do
        virsh_ destroy "$dom" >/dev/null 2>&1
        # Checkpoints (virtnbdbackup makes them) would block a plain undefine.
        virsh_ undefine --checkpoints-metadata --snapshots-metadata "$dom" >/dev/null 2>&1
    done
    # Filesystems a test mounted in its directory (small tmpfs destinations).
    if [ -n "$TB_DIR" ]; then
        findmnt -rn -o TARGET | grep "^$TB_DIR/" | sort -r | while read -r mnt; do umount -l "$mnt"; done
    fi
    # Every loop device over a file of this test, however it was attached
    # (tb_loop runs in a $(...) subshell, so no list kept here would see it).
    if [ -n "$TB_DIR" ]; then
        losetup -n -l -O NAME,BACK-FILE 2>/dev/null | while read -r loop file; do
            case $file in "$TB_DIR"/*) losetup -d "$loop" ;; esac
        done
    fi
    if [ -n "$TB_DIR" ] && [ -d "$TB_DIR" ]; then
        if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
            for log in "$TB_DIR"/*.console.log; do
                [ -f "$log" ] || continue
                tb_log "guest console ($log):"
                tail -n 20 "$log" >&2
            done
        fi
        rm -rf "$TB_DIR"
    fi
    exit "$status"
}

tb_init() {
    [ "$(id -u)" -eq 0 ] || tb_skip "integration tests need root (libvirt's qemu:///system)"
    local tool
    for tool in virsh qemu-img qemu-system-x86_64 mkfs.ext4 debugfs e2fsck losetup; do
        command -v "$tool" >/dev/null || tb_skip "$tool is not installed (run scripts/setup)"
    done
    [ -x "$TB_BUILD_DIR/tests/virtsnap-probe" ] || tb_skip "no build in $TB_BUILD_DIR (run scripts/setup)"
    trap tb_cleanup EXIT
    trap 'exit 130' INT TERM
    "$TB_SOURCE_DIR/scripts/testbed/start-daemons" || tb_fail "libvirtd could not be started"
    TB_GUEST=$("$TB_SOURCE_DIR/scripts/testbed/guest-build") || tb_fail "the test guest could not be built"
    local root=${VIRTSNAP_TEST_DIR:-/var/tmp/virtsnap-tests}
    mkdir -p "$root"
    chmod 755 "$root"
    TB_DIR=$(mktemp -d "$root/$TB_NAME.XXXXXX")
    # QEMU runs as another user and must reach the images.
    chmod 755 "$TB_DIR"
    TB_PROBE="$TB_BUILD_DIR/tests/virtsnap-probe"
}

# tb_image PATH FORMAT SIZE LABEL [BACKING BACKING_FORMAT]
# Without BACKING: a fresh ext4 filesystem labelled LABEL (initialised eagerly:
# lazy init would keep writing in the guest and pollute comparisons).
# With BACKING: an empty qcow2 overlay on it. TB_CONTENT=DIR: the new
# filesystem holds DIR's files.
tb_image() {
    local path=$1 format=$2 size=$3 label=$4 backing=${5:-} backing_format=${6:-}
    if [ -n "$backing" ]; then
        qemu-img create -q -f qcow2 -F "$backing_format" -b "$backing" "$path"
        return
    fi
    local raw="$path.mkfs-tmp"
    truncate -s "$size" "$raw"
    mkfs.ext4 -q -F -L "$label" -E lazy_itable_init=0,lazy_journal_init=0 ${TB_CONTENT:+-d "$TB_CONTENT"} "$raw"
    if [ "$format" = raw ]; then
        mv "$raw" "$path"
    else
        qemu-img convert -q -f raw -O "$format" "$raw" "$path"
        rm -f "$raw"
    fi
}

# Prints the device; tb_cleanup detaches it (it finds it by its backing file).
tb_loop() {
    losetup -f --show "$1" || tb_skip "no loop device available"
}

# XML attribute values: the paths may hold quotes, ampersands, non-ASCII.
tb_xml_escape() {
    local s=$1
    s=${s//&/&amp;}
    s=${s//</&lt;}
    s=${s//>/&gt;}
    s=${s//\'/&apos;}
    s=${s//\"/&quot;}
    printf '%s' "$s"
}

tb_disk_file() {
    TB_DISKS_XML+="<disk type='file' device='disk'><driver name='qemu' type='$3'/><source file='$(tb_xml_escape "$2")'/><target dev='$1' bus='virtio'/></disk>"
}

tb_disk_block() {
    TB_DISKS_XML+="<disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='$(tb_xml_escape "$2")'/><target dev='$1' bus='virtio'/></disk>"
}

tb_disk_cdrom() {
    TB_DISKS_XML+="<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='$(tb_xml_escape "$2")'/><target dev='$1' bus='ide'/><readonly/></disk>"
}

# tb_start_domain NAME [no-agent] [hung-agent] [no-agent-channel] [no-workload] [transient]
#                 [thaw-fails | thaw-fails=N]
tb_start_domain() {
    local name=$1
    shift
    local cmdline="console=ttyS0 quiet" channel=yes transient=no opt
    for opt in "$@"; do
        case $opt in
        no-agent) cmdline+=" virtsnap.agent=0" ;;
        hung-agent) cmdline+=" virtsnap.agent=hung" ;;
        thaw-fails) cmdline+=" virtsnap.thaw=fail" ;;
        thaw-fails=*) cmdline+=" virtsnap.thaw=fail:${opt#thaw-fails=}" ;;
        no-agent-channel) channel=no ;;
        no-workload) cmdline+=" virtsnap.workload=0" ;;
        transient) transient=yes ;;
        *) tb_fail "tb_start_domain: unknown option $opt" ;;
        esac
    done
    local xml="$TB_DIR/$name.xml"
    {
        echo "<domain type='qemu'>"
        echo "  <name>$name</name>"
        echo "  <memory unit='MiB'>256</memory>"
        echo "  <vcpu>1</vcpu>"
        echo "  <os><type arch='x86_64' machine='pc'>hvm</type>"
        echo "    <kernel>$TB_GUEST/vmlinuz</kernel><initrd>$TB_GUEST/initrd.img</initrd>"
        echo "    <cmdline>$cmdline</cmdline></os>"
        echo "  <features><acpi/></features>"
        echo "  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>"
        echo "  <devices>"
        echo "    $TB_DISKS_XML"
        if [ "$channel" = yes ]; then
            echo "    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
        fi
        echo "    <serial type='file'><source path='$TB_DIR/$name.console.log'/><target port='0'/></serial>"
        echo "    <memballoon model='none'/>"
        echo "  </devices>"
        echo "</domain>"
    } >"$xml"
    TB_DISKS_XML=""
    # Registered before it exists, so a failure half-way still cleans it up.
    TB_DOMAINS+=("$name")
    if [ "$transient" = yes ]; then
        virsh_ create "$xml" >/dev/null || tb_fail "domain $name did not start"
    else
        virsh_ define "$xml" >/dev/null || tb_fail "domain $name could not be defined"
        virsh_ start "$name" >/dev/null || tb_fail "domain $name did not start"
    fi
}

# tb_two_disk_domain NAME [tb_start_domain options]: the common guest of the
# backup scenarios, started with its agent answering: vda a qcow2
# (TB_TOP) on a backing image (TB_BASE), vdb a raw file (TB_RAW).
tb_two_disk_domain() {
    local name=$1
    shift
    TB_BASE="$TB_DIR/base.qcow2"
    TB_TOP="$TB_DIR/top.qcow2"
    TB_RAW="$TB_DIR/data.raw"
    tb_image "$TB_BASE" qcow2 256M vda
    tb_image "$TB_TOP" qcow2 256M vda "$TB_BASE" qcow2
    tb_image "$TB_RAW" raw 128M vdb
    tb_disk_file vda "$TB_TOP" qcow2
    tb_disk_file vdb "$TB_RAW" raw
    tb_start_domain "$name" "$@"
    tb_wait_agent "$name"
}

tb_mixed_domain() {
    local name=$1
    shift
    mkdir -p "$TB_DIR/dir with space é"
    TB_BASE="$TB_DIR/base.qcow2"
    TB_TOP="$TB_DIR/top.qcow2"
    TB_RAW="$TB_DIR/dir with space é/data disk ü.raw"
    tb_image "$TB_BASE" qcow2 64M vda
    tb_image "$TB_TOP" qcow2 64M vda "$TB_BASE" qcow2
    tb_image "$TB_RAW" raw 32M vdb
    tb_image "$TB_DIR/block.img" raw 32M vdc
    TB_LOOP=$(tb_loop "$TB_DIR/block.img")
    truncate -s 1M "$TB_DIR/cd.iso"
    tb_disk_file vda "$TB_TOP" qcow2
    tb_disk_file vdb "$TB_RAW" raw
    tb_disk_block vdc "$TB_LOOP"
    tb_disk_cdrom hdc "$TB_DIR/cd.iso"
    tb_start_domain "$name" "$@"
}

# tb_wait_agent NAME [TIMEOUT_SECONDS]: waits for the agent through virsh, so
# that tests of libsnap's own probe do not depend on the thing they test.
tb_wait_agent() {
    local name=$1 timeout=${2:-90} start=$SECONDS
    while [ $((SECONDS - start)) -lt "$timeout" ]; do
        if virsh_ domtime "$name" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    tb_fail "the guest agent of $name did not answer within $timeout s"
}

# tb_wait_console NAME TEXT [TIMEOUT]: waits until the guest printed TEXT.
tb_wait_console() {
    local name=$1 text=$2 timeout=${3:-90} start=$SECONDS
    while [ $((SECONDS - start)) -lt "$timeout" ]; do
        if grep -q "$text" "$TB_DIR/$name.console.log" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    tb_fail "guest $name did not print '$text' within $timeout s"
}

# tb_guest_file IMAGE FORMAT PATH: prints PATH from the ext4 filesystem in
# IMAGE. It works on a private raw copy whose journal is replayed first, so a
# live image (opened with -U) reads as a crash-consistent one would.
tb_guest_file() {
    local image=$1 format=$2 path=$3
    local copy
    copy=$(mktemp "$TB_DIR/read.XXXXXX")
    qemu-img convert -U -q -f "$format" -O raw "$image" "$copy"
    e2fsck -fy "$copy" >/dev/null 2>&1 || [ $? -le 2 ] || tb_fail "e2fsck cannot repair a copy of $image"
    debugfs -R "cat $path" "$copy" 2>/dev/null
    rm -f "$copy"
}

# tb_guest_exec DOMAIN SCRIPT: runs SCRIPT with sh in the guest (its agent's
# guest-exec); prints its standard output; fails the test when it fails.
tb_guest_exec() {
    local domain=$1 script=$2 request pid status
    request=$(jq -nc --arg s "$script" '{execute: "guest-exec", arguments: {path: "/bin/sh", arg: ["-c", $s], "capture-output": true}}')
    pid=$(virsh_ qemu-agent-command "$domain" "$request" | jq -r .return.pid) || tb_fail "guest-exec of '$script' failed"
    for _ in $(seq 600); do
        status=$(virsh_ qemu-agent-command "$domain" "{\"execute\":\"guest-exec-status\",\"arguments\":{\"pid\":$pid}}")
        if [ "$(jq -r .return.exited <<<"$status")" = true ]; then
            [ "$(jq -r .return.exitcode <<<"$status")" = 0 ] || tb_fail "'$script' failed in the guest: $status"
            jq -r '.return["out-data"] // ""' <<<"$status" | base64 -d
            return 0
        fi
        sleep 0.2
    done
    tb_fail "'$script' did not end in the guest"
}

# tb_guest_sums DOMAIN: "NAME MD5" of each .bin file on the guest's vda, as
# the guest reads it (after a sync).
tb_guest_sums() {
    tb_guest_exec "$1" 'sync; cd /mnt/vda && for f in *.bin; do echo "$f $(md5sum <"$f" | cut -d" " -f1)"; done'
}

# tb_image_sums IMAGE: the same, read from a qcow2 image on the host (a raw
# copy whose journal is replayed first).
tb_image_sums() {
    local raw="$TB_DIR/sums.raw" name
    qemu-img convert -q -f qcow2 -O raw "$1" "$raw"
    e2fsck -fy "$raw" >/dev/null 2>&1 || [ $? -le 2 ] || tb_fail "e2fsck cannot repair a copy of $1"
    for name in $(debugfs -R "ls -p /" "$raw" 2>/dev/null | awk -F/ '$6 ~ /\.bin$/ { print $6 }' | LC_ALL=C sort); do
        echo "$name $(debugfs -R "cat /$name" "$raw" 2>/dev/null | md5sum | cut -d' ' -f1)"
    done
    rm -f "$raw"
}

# tb_last_record IMAGE FORMAT: the number of the last workload record on it.
tb_last_record() {
    tb_guest_file "$1" "$2" /workload.log | awk '$1 == "record" { n = $2 } END { print n + 0 }'
}

# tb_gapless IMAGE FORMAT: the workload log on IMAGE is "record 1" .. "record N"
# with nothing missing or repeated; prints N.
tb_gapless() {
    tb_guest_file "$1" "$2" /workload.log |
        awk '$1 == "record" { if ($2 != NR) { print "gap at line " NR ": " $0 > "/dev/stderr"; bad = 1; exit 1 } n = NR }
             END { if (!bad) print n + 0 }' ||
        tb_fail "the workload log on $1 is not a clean sequence"
}

# tb_verified_by_default SET: each disk of SET was verified as
# virtsnap-backup verifies by default and every check passed: its files
# hashed as QEMU maps them; a layer of a chain (not flattened) also compared
# with its frozen image, a flattened copy not.
tb_verified_by_default() {
    awk '/<disk / { n++; flat = 0; q = 0; s = 0 }
         /<backup / { flat = ($0 ~ /flattened="yes"/) }
         /<verification kind="qemu-checksums" result="ok"/ { q = 1 }
         /<verification kind="source" result="ok"/ { s = 1 }
         /<verification [^>]*result="mismatch"/ { bad = 1 }
         /<\/disk>/ { if (!q || flat == s) bad = 1 }
         END { exit (bad || n == 0) }' "$1/manifest.xml"
}

# tb_sources DOMAIN [--inactive]: "TARGET SOURCE" per disk, as libvirt has it.
tb_sources() {
    virsh_ domblklist "$@" --details | awk '{ t = $3; sub(/^ *[^ ]+ +[^ ]+ +[^ ]+ +/, ""); print t, $0 }'
}

# tb_expect_error STATUS TEXT TOOL ARGS...: virtsnap-TOOL ARGS must exit
# STATUS with exactly one line on stderr that contains TEXT, and print
# nothing on stdout.
tb_expect_error() {
    local want=$1 text=$2 tool=$3 status=0
    shift 3
    tb_tool "$tool" "$@" >"$TB_DIR/expect.out" 2>"$TB_DIR/expect.err" || status=$?
    local what="virtsnap-$tool $*" err
    err=$(cat "$TB_DIR/expect.err")
    [ "$status" -eq "$want" ] || tb_fail "$what: exit $status, expected $want: $err"
    [ "$(wc -l <"$TB_DIR/expect.err")" -eq 1 ] || tb_fail "$what: not one error line: $err"
    grep -q -- "$text" "$TB_DIR/expect.err" || tb_fail "$what: the error does not say '$text': $err"
    [ -s "$TB_DIR/expect.out" ] && tb_fail "$what: printed on stdout: $(cat "$TB_DIR/expect.out")"
    return 0
}

# tb_tool NAME ARGS...: runs the built virtsnap-NAME.
tb_tool() {
    local name=$1
    shift
    "$TB_BUILD_DIR/tools/virtsnap-$name" "$@"
}

# tb_stop_at POINT TOOL ARGS... : starts virtsnap-TOOL in the background with
# VIRTSNAP_PAUSE_AT=POINT, waits until it has stopped itself there, and sets
# TB_STOPPED_PID. Its stdout goes to $TB_DIR/stopped.out, stderr to
# $TB_DIR/stopped.err.
tb_stop_at() {
    local point=$1 tool=$2
    shift 2
    VIRTSNAP_PAUSE_AT=$point "$TB_BUILD_DIR/tools/virtsnap-$tool" "$@" \
        >"$TB_DIR/stopped.out" 2>"$TB_DIR/stopped.err" &
    TB_STOPPED_PID=$!
    local start=$SECONDS
    while [ $((SECONDS - start)) -lt 60 ]; do
        case $(ps -o stat= -p "$TB_STOPPED_PID" 2>/dev/null) in
        T*) return 0 ;;
        "") tb_fail "virtsnap-$tool ended before reaching $point: $(cat "$TB_DIR/stopped.err")" ;;
        esac
        sleep 0.1
    done
    tb_fail "virtsnap-$tool did not reach $point within 60 s"
}

# tb_kill_at POINT TOOL ARGS... : like tb_stop_at, then SIGKILL.
tb_kill_at() {
    tb_stop_at "$@"
    kill -KILL "$TB_STOPPED_PID"
    wait "$TB_STOPPED_PID" 2>/dev/null || true
}
