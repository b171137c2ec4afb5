#!/bin/bash
# usage: systemd-units.sh BUILD_DIR
# The systemd units as installed (cmake --install --prefix /usr into an empty
# DESTDIR) pass `systemd-analyze verify` without a word, offline (this
# machine runs no systemd: --root at the DESTDIR, with the host's targets and
# slices copied in), name the installed tool by its path, and run it as the
# man pages say.
set -euo pipefail
build=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "systemd-units: $*" >&2; exit 1; }
command -v systemd-analyze >/dev/null || { echo "systemd-units: no systemd-analyze" >&2; exit 77; }

DESTDIR="$root" cmake --install "$build" --prefix /usr >/dev/null
units="$root/usr/lib/systemd/system"
for unit in virtsnap-backup@.service virtsnap-backup@.timer virtsnap-backup-all.service virtsnap-backup-all.timer; do
    [ -f "$units/$unit" ] || fail "$unit is not installed: $(ls "$units")"
done
grep -qx 'ExecStart=/usr/bin/virtsnap-backup %I' "$units/virtsnap-backup@.service" || fail "virtsnap-backup@.service runs $(grep ExecStart "$units/virtsnap-backup@.service")"
grep -qx 'ExecStart=/usr/bin/virtsnap-backup --all' "$units/virtsnap-backup-all.service" || fail "virtsnap-backup-all.service runs $(grep ExecStart "$units/virtsnap-backup-all.service")"
grep -qx 'StateDirectory=virtsnap' "$units/virtsnap-backup@.service" || fail "the state directory is not /var/lib/virtsnap"
cp -a /lib/systemd/system/*.target /lib/systemd/system/*.slice "$units/"
for unit in virtsnap-backup@vm1.service virtsnap-backup@vm1.timer virtsnap-backup-all.service virtsnap-backup-all.timer; do
    out=$(cd "$root" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no --root="$root" "$unit" 2>&1) ||
        fail "$unit: systemd-analyze verify failed: $out"
    [ -z "$out" ] || fail "$unit: systemd-analyze verify: $out"
done
# The unit's default destination: virtsnap-backup's state directory.
"$root/usr/bin/virtsnap-backup" --help | grep -q -- "--state-dir" || fail "the installed tool does not run"
echo "systemd-units: 4 units verified"
