#include "virt/pending_commit.hpp"

#include "store/backup_set.hpp"
#include "store/tracking_record.hpp"
#include "util/error.hpp"
#include "util/pause_point.hpp"
#include "virt/domain_snapshot.hpp"
#include "virt/merge_below.hpp"
#include "virt/snapshot.hpp"

#include <optional>
#include <sys/stat.h>

namespace virtsnap::virt {

using util::quoted;

namespace {

// A thaw that never happened is worth a few seconds at most here: the run
// died long ago, and an agent that does not answer now will not soon.
constexpr std::chrono::seconds recovery_thaw_bound{10};

// The backup set the dead run was writing: removed unless it was completed
// (a completed set is a good backup whose merge had not finished).
void finish_set(const store::StateRecord& record, const util::Log& log) {
    if (record.set_dir.empty())
        return;
    struct stat st {};
    if (::lstat(record.set_dir.c_str(), &st) != 0)
        return;
    // Only the directory the record names, by the name a set of this
    // snapshot has.
    const std::string name = record.set_dir.substr(record.set_dir.find_last_of('/') + 1);
    if (!S_ISDIR(st.st_mode) || name != record.snapshot_id || !store::is_set_id(name)) {
        log.warn("the state record names " + quoted(record.set_dir) +
                 " as its backup set, which is not a set directory of snapshot " + record.snapshot_id +
                 "; left as it is");
        return;
    }
    if (store::has_marker(record.set_dir)) {
        log.info("the backup set " + quoted(record.set_dir) +
                 " was completed before the run died; it is kept");
        return;
    }
    log.info("removing the incomplete backup set " + quoted(record.set_dir) + " left by the run that died");
    try {
        store::remove_set(record.set_dir);
    } catch (const util::RefusedError& error) {
        log.warn(error.what());
    }
}

void merge(const Connection& conn, const Domain& domain, const store::StateRecord& record,
           const MergeSettings& settings, const util::Log& log) {
    merge_overlays(conn, domain, record.snapshot_id, record.disks, settings, log);
}

// Stage keeping, to its end: the change record names this snapshot's
// overlays (written again: idempotent), the kept overlays below them are
// merged away, and the state record goes.
void keep_overlays(const Connection& conn, const Domain& domain, const std::string& state_dir,
                   store::StateRecord record, const MergeSettings& settings, const util::Log& log) {
    record.stage = store::Stage::keeping;
    store::save_state(state_dir, record);
    store::TrackingRecord tracking = store::tracking_after(record);
    store::stamp_files(tracking);
    store::save_tracking(state_dir, tracking);
    util::pause_point("change-record-saved");
    merge_kept_overlays(conn, domain, record.below, record.disks, settings, log);
    // The merge wrote the disks' own images: the record keeps what they
    // are now, so that a later change by anyone else is noticed.
    store::stamp_files(tracking);
    store::save_tracking(state_dir, tracking);
    store::remove_state(state_dir, domain.uuid());
}

} // namespace

bool recover_unfinished_run(const Connection& conn, const Domain& domain, const std::string& state_dir,
                            const MergeSettings& settings, const util::Log& log) {
    std::optional<store::StateRecord> record = store::load_state(state_dir, domain.uuid());
    if (!record) {
        check_overlays_explained(domain, store::load_tracking(state_dir, domain.uuid()), state_dir, true);
        return false;
    }
    if (record->stage == store::Stage::keeping) {
        log.info("finishing an earlier run on domain " + quoted(domain.name()) + ": its backup set " +
                 quoted(record->set_dir) + " is complete and its overlays stay as the change record");
        keep_overlays(conn, domain, state_dir, *record, settings, log);
        return true;
    }
    log.info("finishing an earlier unfinished run on domain " + quoted(domain.name()) + ": snapshot " +
             record->snapshot_id + " (it stopped at stage " + store::to_string(record->stage) + ")");
    // Killed between its freeze and its thaw, the run may have left the
    // guest frozen. The merge goes on whether or not the thaw is confirmed;
    // the frozen guest is reported last, as the error it is.
    std::optional<util::GuestFrozen> frozen;
    if (record->stage == store::Stage::prepared && record->quiesce && domain.is_active()) {
        try {
            thaw_guest(domain, recovery_thaw_bound, log);
            log.info("thawed the filesystems of domain " + quoted(domain.name()) +
                     " (harmless if they were not frozen)");
        } catch (const util::GuestFrozen& error) {
            frozen = error;
        }
    }
    record->stage = store::Stage::committing;
    store::save_state(state_dir, *record);
    try {
        merge(conn, domain, *record, settings, log);
        finish_set(*record, log);
    } catch (const util::Error& error) {
        // The guest that may be frozen stays the headline (exit status 7).
        if (frozen)
            throw util::GuestFrozen(std::string(frozen->what()) + "; also: " + error.what());
        throw;
    }
    store::remove_state(state_dir, domain.uuid());
    if (!record->disks.empty())
        log.info("domain " + quoted(domain.name()) + " is back on its original chains");
    if (frozen)
        throw *frozen;
    return true;
}

PendingCommit::PendingCommit(const Connection& conn, const Domain& domain, std::string state_dir,
                             store::StateRecord record, MergeSettings settings, const util::Log& log)
    : conn_(conn), domain_(domain), state_dir_(std::move(state_dir)), record_(std::move(record)),
      settings_(settings), log_(log) {}

PendingCommit::~PendingCommit() {
    if (done_)
        return;
    try {
        finish();
    } catch (const std::exception& error) {
        log_.warn(std::string(error.what()) + "; the state record is kept: run 'virtsnap-commit --recover " +
                  domain_.name() + "'");
    }
}

void PendingCommit::keep() {
    if (done_)
        return;
    done_ = true; // from here on the overlays stay, on every path
    keep_overlays(conn_, domain_, state_dir_, record_, settings_, log_);
}

void PendingCommit::finish() {
    if (done_)
        return;
    done_ = true; // one attempt: a failed merge is for --recover
    record_.stage = store::Stage::committing;
    store::save_state(state_dir_, record_);
    merge(conn_, domain_, record_, settings_, log_);
    store::remove_state(state_dir_, domain_.uuid());
}

} // namespace virtsnap::virt
