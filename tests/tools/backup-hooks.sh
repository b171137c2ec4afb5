#!/bin/bash
# virtsnap-backup --hook: the script is called at each phase, in order, with
# the phase as its argument and the run's facts in VIRTSNAP_* variables; its
# output never reaches stdout (the set's directory). A hook that fails
# before the snapshot stops the backup with nothing changed; one that fails
# or hangs after it is a warning and the commit happens all the same (a hang
# is stopped with everything it started at --hook-timeout). At backup-end a
# hook copies the finished set offsite with rsync, the completion marker
# last, and the copy verifies and lists as complete.
. "$(dirname "$0")/../functions.sh"
tb_init
command -v rsync >/dev/null || tb_skip "rsync is not installed (scripts/setup installs it)"

state="$TB_DIR/state"
dest="$TB_DIR/backups"
offsite="$TB_DIR/offsite"
mkdir -p "$offsite"
tb_two_disk_domain vm
before=$(tb_sources vm)
backup() { tb_tool backup --state-dir "$state" -o "$dest" "$@"; }

# The hook: logs each call, fails at $FAIL_AT, hangs at $HANG_AT (leaving a
# child behind too), checks where the domain is at post-snapshot, and at
# backup-end copies the set offsite.
cat >"$TB_DIR/hook" <<HOOK
#!/bin/bash
echo "HOOK OUTPUT AT \$1"
state=-
if [ "\$1" = post-snapshot ] || [ "\$1" = post-commit ]; then
    if virsh -q -c "$TB_URI" domblklist vm | grep -q '\.virtsnap-'; then state=on-overlays; else state=on-chain; fi
fi
complete=-
[ -n "\$VIRTSNAP_SET_DIR" ] && [ -f "\$VIRTSNAP_SET_DIR/complete" ] && complete=complete
echo "\$1 domain=\$VIRTSNAP_DOMAIN phase=\$VIRTSNAP_PHASE status=\${VIRTSNAP_STATUS:--} set=\${VIRTSNAP_SET_DIR:--} read=\${VIRTSNAP_BYTES_READ:--} \$state \$complete" >>"$TB_DIR/hook.log"
[ "\$1" = log-end ] && cp "\$VIRTSNAP_LOG_FILE" "$TB_DIR/log-at-end"
[ "\$1" = "\${FAIL_AT:-}" ] && exit 3
if [ "\$1" = "\${HANG_AT:-}" ]; then
    sleep 600 &   # virtsnap-hook-hang-marker
    exec sleep 600
fi
if [ "\$1" = backup-end ] && [ -n "\${OFFSITE:-}" ]; then
    target="\$OFFSITE/\$VIRTSNAP_DOMAIN/\$(basename "\$VIRTSNAP_SET_DIR")"
    mkdir -p "\$target"
    # Everything but the marker, then the marker: a copy cut short is never complete.
    rsync -a --exclude=complete "\$VIRTSNAP_SET_DIR/" "\$target/" && rsync -a "\$VIRTSNAP_SET_DIR/complete" "\$target/"
fi
exit 0
HOOK
chmod +x "$TB_DIR/hook"
phases() { awk '{ print $1 }' "$TB_DIR/hook.log" | paste -sd' '; }

# 1. Every phase, in order, with its facts; the hook's output is not on stdout.
rm -f "$TB_DIR/hook.log"
out=$(OFFSITE="$offsite" backup --hook "$TB_DIR/hook" vm 2>"$TB_DIR/err") || tb_fail "the backup with a hook failed: $(cat "$TB_DIR/err")"
[ "$(echo "$out" | wc -l)" -eq 1 ] && [ -d "$out" ] || tb_fail "stdout is not just the set: $out"
grep -q "HOOK OUTPUT AT job-start" "$TB_DIR/err" || tb_fail "the hook's output is not on stderr: $(cat "$TB_DIR/err")"
[ "$(phases)" = "job-start backup-start post-snapshot pre-commit post-commit backup-end job-end" ] ||
    tb_fail "the phases: $(phases)"
grep -q "^post-snapshot domain=vm phase=post-snapshot status=- set=$out read=- on-overlays -$" "$TB_DIR/hook.log" ||
    tb_fail "post-snapshot: $(cat "$TB_DIR/hook.log")"
grep -q "^post-commit .* on-chain complete$" "$TB_DIR/hook.log" || tb_fail "post-commit: $(cat "$TB_DIR/hook.log")"
grep -q "^backup-end domain=vm phase=backup-end status=0 set=$out read=[1-9][0-9]* - complete$" "$TB_DIR/hook.log" ||
    tb_fail "backup-end: $(cat "$TB_DIR/hook.log")"
grep -q "^job-end .* status=0 " "$TB_DIR/hook.log" || tb_fail "job-end: $(cat "$TB_DIR/hook.log")"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "the domain is on $(tb_sources vm)"

# 2. The offsite copy is a complete set that verifies on its own.
copy="$offsite/vm/$(basename "$out")"
[ -f "$copy/complete" ] || tb_fail "the offsite copy is not complete: $(ls -la "$copy")"
tb_tool verify -q --checksums "$copy" >/dev/null 2>"$TB_DIR/verify.err" || tb_fail "the offsite copy does not verify: $(cat "$TB_DIR/verify.err")"
tb_tool list "$offsite" vm | grep -q "$(basename "$out") .* complete" || tb_fail "the offsite copy does not list as complete"

# 3. A failure before the snapshot stops the backup: exit 5, nothing made.
n=$(ls "$dest/vm" | wc -l)
rm -f "$TB_DIR/hook.log"
status=0
FAIL_AT=backup-start backup --hook "$TB_DIR/hook" vm >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 5 ] || tb_fail "a hook failing at backup-start: exit $status, expected 5: $(cat "$TB_DIR/err")"
grep -q "hook '$TB_DIR/hook' at backup-start exited with status 3" "$TB_DIR/err" || tb_fail "the error does not name the hook: $(cat "$TB_DIR/err")"
[ "$(ls "$dest/vm" | wc -l)" -eq "$n" ] || tb_fail "a refused backup left a set"
[ "$(phases)" = "job-start backup-start backup-abort job-end" ] || tb_fail "the phases of a refused backup: $(phases)"
grep -q "^backup-abort .* status=5 " "$TB_DIR/hook.log" || tb_fail "backup-abort: $(cat "$TB_DIR/hook.log")"
grep -q "^job-end .* status=5 " "$TB_DIR/hook.log" || tb_fail "job-end after a refusal: $(cat "$TB_DIR/hook.log")"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "a refused backup changed the domain: $(tb_sources vm)"

# 4. After the snapshot a failure is a warning; the commit happens.
for phase in post-snapshot pre-commit; do
    FAIL_AT=$phase backup -q --hook "$TB_DIR/hook" vm >/dev/null 2>"$TB_DIR/err" ||
        tb_fail "a hook failing at $phase failed the backup: $(cat "$TB_DIR/err")"
    grep -q "warning: hook '$TB_DIR/hook' at $phase exited with status 3" "$TB_DIR/err" ||
        tb_fail "no warning for the hook failing at $phase: $(cat "$TB_DIR/err")"
    [ "$(tb_sources vm)" = "$before" ] || tb_fail "after a hook failed at $phase the domain is on $(tb_sources vm)"
done

# 5. A hook that hangs before the commit is stopped with its child at
# --hook-timeout; the backup completes.
t0=$(date +%s)
HANG_AT=pre-commit backup -q --hook "$TB_DIR/hook" --hook-timeout 2s vm >/dev/null 2>"$TB_DIR/err" ||
    tb_fail "a hanging hook failed the backup: $(cat "$TB_DIR/err")"
[ $(($(date +%s) - t0)) -lt 60 ] || tb_fail "the hanging hook held the backup for $(($(date +%s) - t0)) s"
grep -q "at pre-commit did not end within 2 s (--hook-timeout) and was stopped" "$TB_DIR/err" ||
    tb_fail "no warning for the hanging hook: $(cat "$TB_DIR/err")"
sleep 1
pgrep -f "virtsnap-hook-hang-marker|sleep 600" >/dev/null && tb_fail "the hook's processes outlived it: $(pgrep -af 'sleep 600')"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "after a hanging hook the domain is on $(tb_sources vm)"

# 6. A hook that cannot run is refused first.
status=0
backup --hook "$TB_DIR/state" vm >/dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || tb_fail "a directory as the hook: exit $status, expected 2"
# --log-file: the run's messages in a new file (what was there is replaced),
# complete when the log-end phase gets its name, before job-end.
echo "an old log" >"$TB_DIR/run.log"
rm -f "$TB_DIR/hook.log" "$TB_DIR/log-at-end"
logged=$(backup --hook "$TB_DIR/hook" --log-file "$TB_DIR/run.log" vm 2>"$TB_DIR/err") ||
    tb_fail "the backup with --log-file failed: $(cat "$TB_DIR/err")"
[ "$(phases)" = "job-start backup-start post-snapshot pre-commit post-commit backup-end log-end job-end" ] ||
    tb_fail "the phases with --log-file: $(phases)"
grep -q "^virtsnap-backup: vm: .* disk(s), .*; set $logged$" "$TB_DIR/log-at-end" ||
    tb_fail "the log at log-end lacks the run's summary: $(cat "$TB_DIR/log-at-end")"
grep -q "an old log" "$TB_DIR/run.log" && tb_fail "the old log was appended to, not replaced"
[ "$(stat -c %a "$TB_DIR/run.log")" = 600 ] || tb_fail "the log file is not private"
rm -f "$TB_DIR/hook.log" "$TB_DIR/log-at-end"
status=0
FAIL_AT=backup-start backup --hook "$TB_DIR/hook" --log-file "$TB_DIR/run.log" vm >/dev/null 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 5 ] && [ "$(grep -c "error:" "$TB_DIR/err")" -eq 1 ] || tb_fail "a refused run with --log-file: exit $status: $(cat "$TB_DIR/err")"
grep -q "^virtsnap-backup: error: .*at backup-start exited with status 3" "$TB_DIR/log-at-end" ||
    tb_fail "the log of a refused run lacks its error: $(cat "$TB_DIR/log-at-end")"
tb_expect_error 2 "exists and is not a regular file" backup -o "$dest" --log-file "$TB_DIR" vm
tb_pass "--log-file ends in a log-end phase; hooks run at every phase with the run's facts, stop a backup only before the snapshot, are stopped when they hang, and copy a complete set offsite"
