#!/bin/bash
# The Debian package, built from this tree with dpkg-buildpackage as a user
# would: lintian finds no error in it; installed by the Ansible role
# (contrib/ansible, twice: the second run changes nothing), its tools run,
# its man pages are found, its units and completion are in place, and its
# virtsnap-backup backs up a running test domain; removed, it leaves nothing
# but its configuration file and state directory; purged, nothing.
. "$(dirname "$0")/../functions.sh"
tb_init
for tool in dpkg-buildpackage dh lintian rsync ansible-playbook; do
    command -v "$tool" >/dev/null || tb_skip "$tool is not installed (scripts/setup installs it)"
done
if dpkg-query -W -f='${Status}' virtsnap 2>/dev/null | grep -q installed; then
    tb_skip "a virtsnap package is installed on this machine already; this test would replace it"
fi
# Whatever happens, the machine ends without the package (then the test
# bed's own cleanup).
purge_then_clean_up() {
    local status=$?
    systemctl disable virtsnap-backup@pkg.timer >/dev/null 2>&1
    dpkg -P virtsnap >/dev/null 2>&1
    (exit "$status")
    tb_cleanup
}
trap purge_then_clean_up EXIT

src="$TB_DIR/src/virtsnap"
mkdir -p "$src"
rsync -a --exclude='/build*' --exclude='/.git' --exclude='/obj-*' --exclude='/debian/virtsnap' \
    "$TB_SOURCE_DIR/" "$src/"
(cd "$src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$TB_DIR/build.log" 2>&1 ||
    tb_fail "dpkg-buildpackage failed: $(tail -n 30 "$TB_DIR/build.log")"
deb=$(ls "$TB_DIR"/src/virtsnap_*.deb)
[ -f "$deb" ] || tb_fail "no package was built: $(ls "$TB_DIR/src")"
lintian --fail-on error "$deb" >"$TB_DIR/lintian.log" 2>&1 || tb_fail "lintian: $(cat "$TB_DIR/lintian.log")"
tb_log "lintian: $(grep -c '^[WI]:' "$TB_DIR/lintian.log" || true) warning(s) or note(s), no error"

# Installed by the Ansible role (contrib/ansible), as a fleet would be: the
# package from the .deb, the configuration from variables, a timer enabled;
# a second run changes nothing.
cat >"$TB_DIR/playbook.yml" <<YML
- hosts: localhost
  gather_facts: false
  roles:
    - role: virtsnap
      vars:
        virtsnap_package_deb: $deb
        virtsnap_output: $TB_DIR/backups
        virtsnap_state_dir: $TB_DIR/state
        virtsnap_keep: 3
        virtsnap_exclude_domains: [scratch]
        virtsnap_domains:
          pkg: {keep: 2, no-verify: false}
        virtsnap_timers: [pkg]
YML
playbook() { ANSIBLE_ROLES_PATH="$TB_SOURCE_DIR/contrib/ansible/roles" ANSIBLE_NOCOLOR=1 ansible-playbook -c local -i localhost, "$TB_DIR/playbook.yml"; }
playbook >"$TB_DIR/ansible1.log" 2>&1 || tb_fail "the Ansible role failed: $(tail -n 30 "$TB_DIR/ansible1.log")"
grep -q "changed=[1-9]" "$TB_DIR/ansible1.log" || tb_fail "the first run of the role changed nothing: $(tail -n 5 "$TB_DIR/ansible1.log")"
playbook >"$TB_DIR/ansible2.log" 2>&1 || tb_fail "the role's second run failed: $(tail -n 30 "$TB_DIR/ansible2.log")"
grep -q "localhost *: ok=[0-9]* *changed=0 .*failed=0" "$TB_DIR/ansible2.log" ||
    tb_fail "the role's second run changed something: $(grep -B2 changed: "$TB_DIR/ansible2.log" | head -n 20)"
conf=/etc/virtsnap/virtsnap.conf
grep -qx "output = $TB_DIR/backups" "$conf" && grep -qx "exclude-domain = scratch" "$conf" &&
    grep -qx "\[domain:pkg\]" "$conf" && grep -qx "no-verify = false" "$conf" ||
    tb_fail "the role's configuration: $(cat "$conf")"
wants=/etc/systemd/system/timers.target.wants
[ "$(readlink "$wants/virtsnap-backup@pkg.timer")" = /lib/systemd/system/virtsnap-backup@.timer ] ||
    tb_fail "the role did not enable virtsnap-backup@pkg.timer: $(ls -la "$wants")"
[ ! -e "$wants/virtsnap-backup-all.timer" ] || tb_fail "the role enabled the timer for every domain"
dpkg -s virtsnap | grep -q '^Depends: .*libvirt0' || tb_fail "the package does not depend on libvirt0: $(dpkg -s virtsnap | grep Depends)"
for tool in create commit copy verify backup list restore mount; do
    /usr/bin/virtsnap-$tool --version | grep -q "^virtsnap-$tool " || tb_fail "the installed virtsnap-$tool does not run"
    man -w virtsnap-$tool >/dev/null || tb_fail "man -w virtsnap-$tool finds no page"
    [ -f /usr/share/bash-completion/completions/virtsnap-$tool ] || tb_fail "no bash completion for virtsnap-$tool"
done
man -w 7 virtsnap >/dev/null || tb_fail "man -w 7 virtsnap finds no page"
for unit in virtsnap-backup@.service virtsnap-backup@.timer virtsnap-backup-all.service virtsnap-backup-all.timer; do
    [ -f /lib/systemd/system/$unit ] || tb_fail "$unit is not installed"
done
grep -qx 'ExecStart=/usr/bin/virtsnap-backup %I' /lib/systemd/system/virtsnap-backup@.service || tb_fail "the unit does not run /usr/bin/virtsnap-backup"
[ -f /usr/share/virtsnap/schemas/manifest.rng ] || tb_fail "the schema is not installed"
grep -q '^/etc/virtsnap/virtsnap.conf$' /var/lib/dpkg/info/virtsnap.conffiles || tb_fail "the configuration file is not a conffile"

# One real backup with the installed tool, its options from the file the
# role wrote (what the timer's service runs).
tb_image "$TB_DIR/vda.qcow2" qcow2 64M vda
tb_disk_file vda "$TB_DIR/vda.qcow2" qcow2
tb_start_domain pkg
tb_wait_agent pkg
set=$(/usr/bin/virtsnap-backup -q pkg) || tb_fail "the installed virtsnap-backup failed"
case $set in "$TB_DIR/backups/pkg/"*) ;; *) tb_fail "the set is not where the configuration says: $set" ;; esac
[ -f "$set/complete" ] || tb_fail "the installed virtsnap-backup made no complete set: $set"
/usr/bin/virtsnap-verify -q "$set" >/dev/null || tb_fail "the set made by the installed tools does not verify"

# Removed: only the configuration file is left (and no state was made in
# /var/lib/virtsnap by this run); purged: nothing.
systemctl disable virtsnap-backup@pkg.timer >/dev/null 2>&1 || tb_fail "cannot disable the timer"
[ ! -e "$wants/virtsnap-backup@pkg.timer" ] || tb_fail "the timer is still enabled"
dpkg -r virtsnap >"$TB_DIR/remove.log" 2>&1 || tb_fail "dpkg -r failed: $(cat "$TB_DIR/remove.log")"
left=$(dpkg -L virtsnap 2>/dev/null | while read -r path; do [ -e "$path" ] && [ ! -d "$path" ] && echo "$path"; done || true)
[ "$left" = /etc/virtsnap/virtsnap.conf ] || tb_fail "after dpkg -r, left: $left"
[ ! -e /usr/bin/virtsnap-backup ] || tb_fail "dpkg -r left the tools"
dpkg -P virtsnap >/dev/null 2>&1 || tb_fail "dpkg -P failed"
[ ! -e /etc/virtsnap/virtsnap.conf ] || tb_fail "dpkg -P left the configuration file"
tb_pass "the package builds, passes lintian, installs through the Ansible role (idempotent), backs up, and removes cleanly"
