#pragma once
// The commit that must follow a snapshot on every path. PendingCommit is
// made as soon as the domain runs on the overlays; finish() merges them back
// (and reports failure), and the destructor does it on any path that left
// without finish() — an error, an exception, a signal turned into one.
// recover_unfinished_run() finishes a run that died (SIGKILL, a host crash)
// from its state record: a guest it may have left frozen is thawed, the
// overlays are merged, and the backup set it was writing is removed.

#include "store/state_record.hpp"
#include "util/log.hpp"
#include "virt/connection.hpp"
#include "virt/merge_overlays.hpp"

#include <string>

namespace virtsnap::virt {

// The caller holds the domain's lock. Finishes what an earlier run left
// (its state record), says what it did, and removes the record; false when
// nothing was pending. RefusedError when the domain is on a virtsnap
// overlay that no record in state_dir explains.
bool recover_unfinished_run(const Connection& conn, const Domain& domain, const std::string& state_dir,
                            const MergeSettings& settings, const util::Log& log);

class PendingCommit {
  public:
    // record: the state record of the snapshot just taken (saved in
    // state_dir).
    PendingCommit(const Connection& conn, const Domain& domain, std::string state_dir,
                  store::StateRecord record, MergeSettings settings, const util::Log& log);
    PendingCommit(const PendingCommit&) = delete;
    PendingCommit& operator=(const PendingCommit&) = delete;
    // Merges when finish() was not called; a failure is logged, and the
    // state record stays for 'virtsnap-commit --recover'.
    ~PendingCommit();

    // Merges the overlays back and removes the state record; throws when
    // the merge fails (the record then stays). Runs once.
    void finish();
    // Instead of finish(), once the backup set is complete: the overlays
    // stay as the domain's change record (store/tracking_record), and kept
    // overlays of an earlier snapshot below them are merged away. Throws
    // when that merge fails (the state record stays, at stage keeping,
    // for --recover). Runs once; the destructor then does nothing.
    void keep();
    bool done() const noexcept { return done_; }

  private:
    const Connection& conn_;
    const Domain& domain_;
    std::string state_dir_;
    store::StateRecord record_;
    MergeSettings settings_;
    const util::Log& log_;
    bool done_ = false;
};

} // namespace virtsnap::virt
