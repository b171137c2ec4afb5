#!/bin/bash
# virtsnap-restore --define defines only what the restore made. The set's
# domain.xml is input from outside: here it gains a host program as
# emulator, an interface script, a host directory, a host serial device, a
# disk on /etc/shadow, a QEMU command line and a console log in
# /etc/cron.d. The defined domain has none of them (each is named on
# stderr), its console goes to the restore's directory, and it boots. A
# subset of the disks is refused with --define (two domains on one image),
# and an image of the running domain is recognised by its inode, even
# through a bind mount. A disk attached to the running domain only is
# restored with the saved live definition.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
images="$TB_DIR/vm"
mkdir -p "$images"
chmod 755 "$images"
tb_image "$images/base.qcow2" qcow2 64M vda
tb_image "$images/vda.qcow2" qcow2 64M vda "$images/base.qcow2" qcow2
tb_image "$images/vdb.raw" raw 32M vdb
tb_disk_file vda "$images/vda.qcow2" qcow2
tb_disk_file vdb "$images/vdb.raw" raw
tb_start_domain vm
tb_wait_agent vm
set=$(tb_tool backup -q --state-dir "$state" -o "$TB_DIR/sets" vm) || tb_fail "the backup failed"

python3 - "$set/domain.xml" "$TB_DIR" <<'PY'
import sys
path, tb = sys.argv[1], sys.argv[2]
s = open(path).read()
s = s.replace("<domain type='qemu'>", "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>")
s = s.replace("<domain type=\"qemu\">", "<domain type=\"qemu\" xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\">")
import re
s = re.sub(r"<emulator>[^<]*</emulator>", "<emulator>%s/evil-emulator</emulator>" % tb, s)
s = re.sub(r"(<serial type=.file.>\s*<source path=)['\"][^'\"]*['\"]", r"\1'/etc/cron.d/virtsnap-evil'", s)
extra = """
    <interface type='ethernet'><script path='%s/evil-script'/><model type='virtio'/></interface>
    <filesystem type='mount'><source dir='/etc'/><target dir='hostetc'/></filesystem>
    <serial type='dev'><source path='/dev/ttyS1'/><target port='1'/></serial>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/etc/shadow'/><target dev='vdz' bus='virtio'/></disk>
  </devices>
  <qemu:commandline><qemu:arg value='-evil'/></qemu:commandline>""" % tb
s = s.replace("</devices>", extra, 1)
open(path, "w").write(s)
PY
grep -q "qemu:commandline" "$set/domain.xml" || tb_fail "the set's definition was not made hostile"

out="$TB_DIR/restored"
TB_DOMAINS+=(vm-restored)
tb_tool restore "$set" -o "$out" --define vm-restored >/dev/null 2>"$TB_DIR/err" ||
    tb_fail "the restore failed: $(cat "$TB_DIR/err")"
for left in "<emulator>" "<interface type='ethernet'>" "<filesystem type='mount'>" "<serial type='dev'>" \
    "<disk type='file'> (disk 'vdz' was not restored)" "<qemu:commandline>"; do
    grep -qF "left out of domain 'vm-restored': $left" "$TB_DIR/err" || tb_fail "$left is not reported left out: $(cat "$TB_DIR/err")"
done
virsh_ dumpxml --inactive vm-restored >"$TB_DIR/defined.xml"
for bad in evil-emulator evil-script /etc/shadow hostetc /dev/ttyS1 qemu: /etc/cron.d; do
    grep -qF -- "$bad" "$TB_DIR/defined.xml" && tb_fail "the defined domain still has $bad: $(cat "$TB_DIR/defined.xml")"
done
grep -qF "$(realpath "$out")/vm-restored-virtsnap-evil" "$TB_DIR/defined.xml" ||
    tb_fail "the console log is not in the restore's directory: $(grep -A2 "<serial" "$TB_DIR/defined.xml")"
grep -q "<kernel>" "$TB_DIR/defined.xml" || tb_fail "the boot files vm uses were left out"
virsh_ start vm-restored >/dev/null 2>"$TB_DIR/start.err" || tb_fail "the restored domain does not start: $(cat "$TB_DIR/start.err")"
tb_wait_agent vm-restored
virsh_ destroy vm-restored >/dev/null

# A subset with --define: refused before anything is written.
tb_expect_error 2 "--define makes a domain of every disk" restore "$set" --disk vda -o "$TB_DIR/sub" --define vm-sub
[ -e "$TB_DIR/sub" ] && tb_fail "a refused --define made its directory"

# The running domain's image, reached through a bind mount of its directory.
mkdir "$TB_DIR/bind"
mount --bind "$images" "$TB_DIR/bind"
inode=$(stat -c %i "$images/vda.qcow2")
tb_expect_error 5 "image of running domain 'vm'" restore "$set" --disk vda --force -o "$TB_DIR/bind"
[ "$(stat -c %i "$images/vda.qcow2")" = "$inode" ] || tb_fail "the running domain's image was replaced"
umount "$TB_DIR/bind"

# A disk attached to the running domain only: backed up, and restored with
# the saved live definition, which alone describes it.
tb_image "$images/vdc.raw" raw 16M vdc
virsh_ attach-disk vm "$images/vdc.raw" vdc --live --targetbus virtio --driver qemu --subdriver raw >/dev/null ||
    tb_fail "cannot attach vdc"
set=$(tb_tool backup -q --state-dir "$state" -o "$TB_DIR/sets" vm) || tb_fail "the backup with vdc failed"
grep -q "dev='vdc'" "$set/domain.xml" && tb_fail "vdc is in the saved persistent definition: the test does not test"
TB_DOMAINS+=(vm-live)
tb_tool restore "$set" -o "$TB_DIR/live" --define vm-live >/dev/null 2>"$TB_DIR/err" ||
    tb_fail "the restore of a set with a disk attached live only failed: $(cat "$TB_DIR/err")"
grep -q "has no disk 'vdc' (attached to the running domain only)" "$TB_DIR/err" || tb_fail "no warning: $(cat "$TB_DIR/err")"
virsh_ dumpxml --inactive vm-live | grep -qF "$(realpath "$TB_DIR/live")/vdc.raw" ||
    tb_fail "the defined domain has no restored vdc: $(virsh_ dumpxml --inactive vm-live)"
virsh_ start vm-live >/dev/null 2>"$TB_DIR/start.err" || tb_fail "vm-live does not start: $(cat "$TB_DIR/start.err")"
tb_wait_agent vm-live
virsh_ destroy vm-live >/dev/null
tb_pass "--define defines only the restored disks and harmless devices, refuses a subset, knows images by inode, and restores a disk attached live only"
