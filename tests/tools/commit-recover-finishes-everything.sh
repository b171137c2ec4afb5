#!/bin/bash
# virtsnap-commit --recover finishes everything a dead run's record knows:
# - after SIGKILL of virtsnap-backup in the middle of its copy, the domain is
#   back on its chains and the incomplete set (gigabytes of .partial files)
#   is removed, and said so;
# - a Ctrl-C (SIGINT to the whole process group, as a terminal sends it)
#   during an offline 'qemu-img commit' does not kill that commit: it
#   finishes, the domain's definition is back on its images, exit 130;
# - a merge where one disk merges and another is refused exits 6 and says
#   which disk was merged.
. "$(dirname "$0")/../functions.sh"
tb_init

state="$TB_DIR/state"
dest="$TB_DIR/backups"
tb_two_disk_domain vm
before=$(tb_sources vm)
before_inactive=$(tb_sources vm --inactive)

clean() {
    local what=$1
    [ "$(tb_sources vm --inactive)" = "$before_inactive" ] || tb_fail "$what: the definition names $(tb_sources vm --inactive)"
    ls "$TB_DIR"/*virtsnap* >/dev/null 2>&1 && tb_fail "$what: overlays left: $(ls "$TB_DIR"/*virtsnap*)"
    ls "$state"/*.state >/dev/null 2>&1 && tb_fail "$what: a state record is left"
    return 0
}

# 1. SIGKILL in the middle of the copy, then --recover: the set goes too.
tb_kill_at disk-copied backup --state-dir "$state" -o "$dest" vm
[ -n "$(ls -A "$dest/vm")" ] || tb_fail "the killed backup left no set to clean"
tb_tool commit --state-dir "$state" --recover vm 2>"$TB_DIR/err" || tb_fail "--recover failed: $(cat "$TB_DIR/err")"
grep -q "removing the incomplete backup set '$dest/vm/" "$TB_DIR/err" ||
    tb_fail "--recover did not say it removed the set: $(cat "$TB_DIR/err")"
[ -z "$(ls -A "$dest/vm")" ] || tb_fail "--recover left the incomplete set: $(find "$dest/vm")"
[ "$(tb_sources vm)" = "$before" ] || tb_fail "--recover left the domain on $(tb_sources vm)"
clean "--recover after SIGKILL mid-copy"

# 2. Ctrl-C during an offline commit. A qemu-img shim in PATH waits 3 s
# before a commit, so the signal arrives while it runs.
tb_tool create -q --state-dir "$state" vm >"$TB_DIR/m" || tb_fail "create failed"
virsh_ destroy vm >/dev/null
overlay=$(sed -n 's/.*<overlay path="\([^"]*vda[^"]*\)".*/\1/p' "$TB_DIR/m")
qemu-io -f qcow2 -c "write -P 0xab 1M 64M" "$overlay" >/dev/null || tb_fail "cannot write into the overlay"
mkdir "$TB_DIR/shim"
real=$(command -v qemu-img)
cat >"$TB_DIR/shim/qemu-img" <<SHIM
#!/bin/sh
if [ "\$1" = commit ]; then touch "$TB_DIR/shim/committing"; sleep 3; fi
exec "$real" "\$@"
SHIM
chmod +x "$TB_DIR/shim/qemu-img"
PATH="$TB_DIR/shim:$PATH" setsid "$TB_BUILD_DIR/tools/virtsnap-commit" --state-dir "$state" --recover vm \
    >/dev/null 2>"$TB_DIR/err" &
pid=$!
for _ in $(seq 1 300); do [ -e "$TB_DIR/shim/committing" ] && break; sleep 0.1; done
[ -e "$TB_DIR/shim/committing" ] || tb_fail "the offline commit never started: $(cat "$TB_DIR/err")"
kill -INT -- "-$pid"
status=0
wait "$pid" || status=$?
[ "$status" -eq 130 ] || tb_fail "Ctrl-C during an offline commit: exit $status, expected 130: $(cat "$TB_DIR/err")"
grep -q "held back until the commit had finished" "$TB_DIR/err" || tb_fail "no word of the held-back signal: $(cat "$TB_DIR/err")"
qemu-io -f qcow2 -c "read -P 0xab 1M 64M" "$TB_DIR/top.qcow2" | grep -q "read 67108864" ||
    tb_fail "the overlay's data did not reach the image"
clean "Ctrl-C during an offline commit"
virsh_ start vm >/dev/null || tb_fail "the domain does not start after the offline commit"
tb_wait_agent vm

# 3. One disk merges, the other was moved onto another image by hand.
tb_tool create -q --state-dir "$state" vm >"$TB_DIR/m2" || tb_fail "create failed"
virsh_ snapshot-create-as vm --disk-only --no-metadata --diskspec vda,snapshot=no \
    --diskspec "vdb,file=$TB_DIR/by-hand.qcow2" >/dev/null || tb_fail "cannot move vdb by hand"
status=0
tb_tool commit --state-dir "$state" <"$TB_DIR/m2" 2>"$TB_DIR/err" || status=$?
[ "$status" -eq 6 ] || tb_fail "a half-refused merge: exit $status, expected 6: $(cat "$TB_DIR/err")"
grep -q "error: disk(s) 'vda' merged back; disk 'vdb' of domain 'vm' is on '$TB_DIR/by-hand.qcow2'" "$TB_DIR/err" ||
    tb_fail "the error does not say what merged: $(cat "$TB_DIR/err")"
tb_sources vm | grep -q "^vda $TB_DIR/top.qcow2$" || tb_fail "vda was not merged: $(tb_sources vm)"
tb_pass "--recover removes a dead run's set, a Ctrl-C never kills an offline commit, a partial merge says what merged (exit 6)"
