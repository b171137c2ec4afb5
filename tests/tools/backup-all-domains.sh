#!/bin/bash
# virtsnap-backup --all backs up every domain of the connection, running and
# shut off, one after another; one that fails (a network disk it cannot
# back up) does not stop the others, the exit status says some failed (6)
# and the summary names it.
. "$(dirname "$0")/../functions.sh"
tb_init

others=$(virsh_ list --all --name | grep -v '^$' || true)
[ -z "$others" ] || tb_skip "this host has other domains ($others); --all would back them up too"

state="$TB_DIR/state"
dest="$TB_DIR/backups"
tb_image "$TB_DIR/run.qcow2" qcow2 64M vda
tb_disk_file vda "$TB_DIR/run.qcow2" qcow2
tb_start_domain running
tb_image "$TB_DIR/off.raw" raw 64M vda
tb_disk_file vda "$TB_DIR/off.raw" raw
tb_start_domain shutoff no-workload
virsh_ destroy shutoff >/dev/null
# A domain whose only disk is a network disk: refused, so its backup fails.
cat >"$TB_DIR/netdisk.xml" <<XML
<domain type='qemu'><name>netdisk</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
<disk type='network' device='disk'><driver name='qemu' type='raw'/>
<source protocol='nbd' name='export'><host name='192.0.2.1' port='10809'/></source><target dev='vda' bus='virtio'/></disk>
</devices></domain>
XML
TB_DOMAINS+=(netdisk)
virsh_ define "$TB_DIR/netdisk.xml" >/dev/null || tb_fail "cannot define the network-disk domain"
tb_wait_agent running

status=0
tb_tool backup --state-dir "$state" --all -o "$dest" >"$TB_DIR/out" 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 6 ] || tb_fail "--all with one failing domain: exit $status, expected 6: $(cat "$TB_DIR/err")"
grep -q "3 domain(s): 2 backed up, 1 failed" "$TB_DIR/err" || tb_fail "no summary: $(cat "$TB_DIR/err")"
grep -q "failed: netdisk" "$TB_DIR/err" || tb_fail "the summary does not name the failed domain: $(cat "$TB_DIR/err")"
[ "$(wc -l <"$TB_DIR/out")" -eq 2 ] || tb_fail "expected two sets on stdout: $(cat "$TB_DIR/out")"
for dom in running shutoff; do
    set=$(grep "/$dom/" "$TB_DIR/out") || tb_fail "no set for $dom: $(cat "$TB_DIR/out")"
    [ -f "$set/complete" ] || tb_fail "the set of $dom is incomplete"
done
grep -q 'offline="yes"' "$(grep /shutoff/ "$TB_DIR/out")/manifest.xml" || tb_fail "the shut-off domain was not backed up offline"
[ -e "$dest/netdisk" ] && [ -n "$(ls -A "$dest/netdisk")" ] && tb_fail "the failed domain left a set"
virsh_ domstate running | grep -q running || tb_fail "the running domain stopped"
ls "$TB_DIR"/*virtsnap* >/dev/null 2>&1 && tb_fail "overlays left"

# --metrics-file: the same run again, its results as a Prometheus text file,
# read by a real parser (the Python client's) and held against the run.
mkdir "$TB_DIR/metrics"
prom="$TB_DIR/metrics/virtsnap.prom"
status=0
tb_tool backup -q --state-dir "$state" --all -o "$dest" --metrics-file "$prom" >"$TB_DIR/out2" 2>"$TB_DIR/err2" || status=$?
[ "$status" -eq 6 ] || tb_fail "--all --metrics-file: exit $status, expected 6: $(cat "$TB_DIR/err2")"
[ "$(stat -c %a "$prom")" = 644 ] || tb_fail "the metrics file has mode $(stat -c %a "$prom"), expected 644"
[ -z "$(ls "$TB_DIR/metrics" | grep -v '^virtsnap.prom$')" ] || tb_fail "left beside the metrics file: $(ls "$TB_DIR/metrics")"
/usr/bin/python3 "$(dirname "$0")/../helpers/prometheus_samples.py" "$prom" >"$TB_DIR/samples" ||
    tb_fail "the metrics file does not parse: $(cat "$prom")"
sample() { # METRIC DOMAIN: its value
    awk -v m="virtsnap_backup_$1" -v d="$2" '$1 == m && $2 == d { print $3 }' "$TB_DIR/samples"
}
# The failed domain's exit status is the one a run of it alone returns.
netdisk_status=0
tb_tool backup -q --state-dir "$state" -o "$dest" netdisk >/dev/null 2>&1 || netdisk_status=$?
[ "$netdisk_status" -ne 0 ] || tb_fail "the network-disk domain backed up on its own"
[ "$(sample last_run_exit_status netdisk)" = "$netdisk_status.0" ] ||
    tb_fail "netdisk's exit status metric: $(sample last_run_exit_status netdisk), alone it exits $netdisk_status"
[ "$(sample complete_sets netdisk)" = 0.0 ] || tb_fail "netdisk has complete sets: $(cat "$TB_DIR/samples")"
[ -z "$(sample last_success_timestamp_seconds netdisk)" ] || tb_fail "netdisk has a last success"
for dom in running shutoff; do
    set=$(grep "/$dom/" "$TB_DIR/out2") || tb_fail "no second set for $dom: $(cat "$TB_DIR/out2")"
    id=$(basename "$set")
    tb_verified_by_default "$set" || tb_fail "$dom: not verified by default: $(cat "$set/manifest.xml")"
    taken=$(date -u -d "${id:0:4}-${id:4:2}-${id:6:2} ${id:9:2}:${id:11:2}:${id:13:2}" +%s)
    data=$(grep -o 'data-bytes="[0-9]*"' "$set/manifest.xml" | grep -o '[0-9]*' | awk '{ s += $1 } END { print s }')
    [ "$(sample last_run_exit_status "$dom")" = 0.0 ] || tb_fail "$dom: exit status metric $(sample last_run_exit_status "$dom")"
    [ "$(sample last_success_timestamp_seconds "$dom")" = "$taken.0" ] ||
        tb_fail "$dom: last success $(sample last_success_timestamp_seconds "$dom"), its set was taken at $taken"
    [ "$(sample last_run_read_bytes "$dom")" = "$data.0" ] ||
        tb_fail "$dom: read bytes $(sample last_run_read_bytes "$dom"), the manifest records $data"
    [ "$(sample complete_sets "$dom")" = "2.0" ] || tb_fail "$dom: $(sample complete_sets "$dom") complete sets, expected 2"
    [ "$(sample last_run_verified "$dom")" = "1.0" ] || tb_fail "$dom: not verified"
    awk -v s="$(sample last_run_duration_seconds "$dom")" 'BEGIN { exit !(s > 0) }' || tb_fail "$dom: no duration"
    awk -v s="$(sample last_run_timestamp_seconds "$dom")" -v t="$taken" 'BEGIN { exit !(s >= t) }' ||
        tb_fail "$dom: the run ended before its snapshot"
done
awk -v s="$(sample last_run_freeze_seconds running)" 'BEGIN { exit !(s > 0) }' || tb_fail "running: no freeze window"
[ "$(sample last_run_freeze_seconds shutoff)" = "0.0" ] || tb_fail "shutoff: a freeze window"
grep -q '^virtsnap_backup_last_run_info{domain="shutoff",type="full",consistency="offline",verification="qemu-checksums"} 1$' "$prom" ||
    tb_fail "shutoff: no info series: $(cat "$prom")"
# A metrics file that could not be written at the end is refused first.
status=0
tb_tool backup -q --state-dir "$state" -o "$dest" --metrics-file "$TB_DIR/nowhere/virtsnap.prom" running >/dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || tb_fail "--metrics-file in a missing directory: exit $status, expected 2"
[ "$(ls "$dest/running" | wc -l)" -eq 2 ] || tb_fail "a refused --metrics-file still made a set"

# --config: the job from a file whose keys are the long options. A domain's
# section overrides the defaults (its no-verify the defaults' verify-with),
# the command line overrides both, and a bad value fails only the domain
# whose section holds it, naming file and line.
cat >"$TB_DIR/virtsnap.conf" <<CONF
# the job's defaults
output = $dest
state-dir = $state   # a comment after a value
exclude-domain = netdisk
keep = 1
verify-with = source

[domain:shutoff]
no-verify = true
keep = 5
CONF
status=0
tb_tool backup --config "$TB_DIR/virtsnap.conf" --all >"$TB_DIR/out3" 2>"$TB_DIR/err3" || status=$?
[ "$status" -eq 0 ] || tb_fail "--config --all: exit $status: $(cat "$TB_DIR/err3")"
grep -q "netdisk: left out (--exclude-domain)" "$TB_DIR/err3" || tb_fail "the excluded domain was not left out: $(cat "$TB_DIR/err3")"
[ "$(wc -l <"$TB_DIR/out3")" -eq 2 ] || tb_fail "--config --all: expected two sets: $(cat "$TB_DIR/out3")"
running_set=$(grep /running/ "$TB_DIR/out3") shutoff_set=$(grep /shutoff/ "$TB_DIR/out3")
grep -q 'kind="source" result="ok"' "$running_set/manifest.xml" ||
    tb_fail "running was not compared with its source as the file says: $(cat "$running_set/manifest.xml")"
grep -q 'kind="qemu-checksums"' "$running_set/manifest.xml" && tb_fail "running was verified by default despite the file"
grep -q '<verification ' "$shutoff_set/manifest.xml" && tb_fail "shutoff was verified despite its section's no-verify"
# keep: the file's 1 for running, its section's 5 for shutoff; then the
# command line's 2 over the file's 1.
[ "$(ls "$dest/running" | wc -l)" -eq 1 ] || tb_fail "running keeps $(ls "$dest/running" | wc -l) sets, expected 1 (keep = 1)"
[ "$(ls "$dest/shutoff" | wc -l)" -eq 3 ] || tb_fail "shutoff keeps $(ls "$dest/shutoff" | wc -l) sets, expected all 3 (its keep = 5)"
tb_tool backup -q --config "$TB_DIR/virtsnap.conf" --keep 2 running >/dev/null || tb_fail "--config --keep 2 running failed"
[ "$(ls "$dest/running" | wc -l)" -eq 2 ] || tb_fail "running keeps $(ls "$dest/running" | wc -l) sets, expected 2 (--keep 2)"
printf '[domain:running]\nbandwidth = lots\n' >>"$TB_DIR/virtsnap.conf"
status=0
tb_tool backup --config "$TB_DIR/virtsnap.conf" --all >"$TB_DIR/out4" 2>"$TB_DIR/err4" || status=$?
[ "$status" -eq 6 ] || tb_fail "--config with a bad value in one section: exit $status, expected 6: $(cat "$TB_DIR/err4")"
grep -q "running: $TB_DIR/virtsnap.conf:12: 'bandwidth': --bandwidth" "$TB_DIR/err4" ||
    tb_fail "the bad value is not named with its file and line: $(cat "$TB_DIR/err4" "$TB_DIR/virtsnap.conf")"
grep -q /shutoff/ "$TB_DIR/out4" || tb_fail "the other domain was not backed up: $(cat "$TB_DIR/err4")"
# A run of one domain warns of a mistake in another domain's section (that
# domain's own runs fail on it) and goes on.
status=0
tb_tool backup --config "$TB_DIR/virtsnap.conf" --no-verify shutoff >/dev/null 2>"$TB_DIR/err4b" || status=$?
[ "$status" -eq 0 ] || tb_fail "a mistake in another domain's section failed this one: exit $status: $(cat "$TB_DIR/err4b")"
grep -q "warning: \[domain:running\]: $TB_DIR/virtsnap.conf:12: 'bandwidth': --bandwidth" "$TB_DIR/err4b" ||
    tb_fail "the mistake in another domain's section was not said: $(cat "$TB_DIR/err4b")"
# An empty --log-file or --metrics-file is not "none": a usage error.
for option in --log-file --metrics-file; do
    status=0
    tb_tool backup --config "$TB_DIR/virtsnap.conf" "$option" "" shutoff >/dev/null 2>"$TB_DIR/err4c" || status=$?
    [ "$status" -eq 2 ] && grep -q -- "$option needs a file name" "$TB_DIR/err4c" ||
        tb_fail "$option '': exit $status: $(cat "$TB_DIR/err4c")"
done
printf 'speling = 1\n' >"$TB_DIR/bad.conf"
status=0
tb_tool backup --config "$TB_DIR/bad.conf" -o "$dest" running >/dev/null 2>"$TB_DIR/err5" || status=$?
[ "$status" -eq 2 ] && grep -q "bad.conf:1: 'speling' is not an option of this tool" "$TB_DIR/err5" ||
    tb_fail "an unknown key: exit $status: $(cat "$TB_DIR/err5")"
# --include-domain: only the named domains; a name the connection does not
# define fails (exit 6) instead of dropping out unnoticed.
status=0
tb_tool backup --state-dir "$state" -o "$dest" --all --no-verify --include-domain shutoff \
    --include-domain ghost >"$TB_DIR/out6" 2>"$TB_DIR/err6" || status=$?
[ "$status" -eq 6 ] || tb_fail "--include-domain with an undefined name: exit $status, expected 6: $(cat "$TB_DIR/err6")"
[ "$(wc -l <"$TB_DIR/out6")" -eq 1 ] && grep -q /shutoff/ "$TB_DIR/out6" ||
    tb_fail "--include-domain shutoff: expected one set of shutoff: $(cat "$TB_DIR/out6")"
grep -q "running: left out (not an --include-domain)" "$TB_DIR/err6" && grep -q "failed: ghost" "$TB_DIR/err6" ||
    tb_fail "--include-domain: the log does not say what was left out and what failed: $(cat "$TB_DIR/err6")"
tb_expect_error 2 "both --include-domain and --exclude-domain" backup --state-dir "$state" -o "$dest" --all \
    --include-domain shutoff --exclude-domain shutoff
tb_pass "--all backs up running and shut-off domains and names the one that failed; --metrics-file reports the run; --config sets the job, per domain; --include-domain picks domains"
