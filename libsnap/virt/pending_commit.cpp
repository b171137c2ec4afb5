#include "virt/pending_commit.hpp"

#include "store/state_record.hpp"
#include "util/error.hpp"

namespace virtsnap::virt {

using util::quoted;

bool recover_unfinished_run(const Connection& conn, const Domain& domain, const std::string& state_dir,
                            const MergeSettings& settings, const util::Log& log) {
    std::optional<store::StateRecord> record = store::load_state(state_dir, domain.uuid());
    if (!record) {
        std::string which;
        if (on_virtsnap_overlay(domain, &which))
            throw util::RefusedError(
                "domain " + quoted(domain.name()) + " is on a virtsnap overlay (" + which + ") but " +
                quoted(state_dir) +
                " holds no state record of it; pass the --state-dir of the run that made it");
        return false;
    }
    log.info("finishing an earlier unfinished run on domain " + quoted(domain.name()) + ": snapshot " +
             record->manifest.snapshot_id + " (it stopped at stage " + store::to_string(record->stage) + ")");
    record->stage = store::Stage::committing;
    store::save_state(state_dir, *record);
    merge_overlays(conn, domain, record->manifest, settings, log);
    store::remove_state(state_dir, domain.uuid());
    log.info("domain " + quoted(domain.name()) + " is back on its original chains");
    return true;
}

PendingCommit::PendingCommit(const Connection& conn, const Domain& domain, std::string state_dir,
                             xml::Manifest record, MergeSettings settings, const util::Log& log)
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

void PendingCommit::finish() {
    if (done_)
        return;
    done_ = true; // one attempt: a failed merge is for --recover
    store::save_state(state_dir_, {store::Stage::committing, record_});
    merge_overlays(conn_, domain_, record_, settings_, log_);
    store::remove_state(state_dir_, domain_.uuid());
}

} // namespace virtsnap::virt
