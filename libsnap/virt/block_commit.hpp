#pragma once
// The shallow active block commit that merges an overlay back into the image
// it was taken from (ARCHITECTURE.md, "Commit"): always SHALLOW with an
// explicit top and base, so nothing below the immediate backing image is ever
// written; the pivot only after the job is READY (block-job event, with
// polling as a fallback); a bounded wait that, on timeout, cancels the job and
// leaves the disk on its overlay, a consistent chain. Each disk's commit is
// driven a step at a time, so the disks of a domain merge side by side, each
// pivoting on its own READY.

#include "util/progress.hpp"
#include "virt/connection.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace virtsnap::virt {

// Block-job events of one domain, recorded per disk target. Registration
// needs the connection's event loop; without it, wait() just sleeps and the
// caller's polling does the work.
class BlockJobEvents {
  public:
    BlockJobEvents(const Connection& conn, const Domain& domain);
    ~BlockJobEvents();
    BlockJobEvents(const BlockJobEvents&) = delete;
    BlockJobEvents& operator=(const BlockJobEvents&) = delete;

    // The last status (VIR_DOMAIN_BLOCK_JOB_READY, _COMPLETED, _FAILED,
    // _CANCELED) reported for target, waiting up to timeout for one; -1 when
    // none came. Taking a status clears it.
    int take(const std::string& target, std::chrono::milliseconds timeout);
    bool active() const noexcept { return callback_id_ >= 0; }

    // Counts the events received; wait_after(seen, ...) returns as soon as
    // one came after generation() returned seen, or after timeout.
    std::uint64_t generation() const;
    void wait_after(std::uint64_t seen, std::chrono::milliseconds timeout) const;

    struct Shared {
        std::mutex mutex;
        std::condition_variable changed;
        std::map<std::string, int> status;
        std::uint64_t generation = 0;
    };

  private:
    virConnectPtr conn_;
    int callback_id_ = -1;
    std::shared_ptr<Shared> shared_;
};

// The block job of one disk, as libvirt reports it now.
struct BlockJobState {
    bool exists = false;
    int type = 0; // VIR_DOMAIN_BLOCK_JOB_TYPE_*
    unsigned long long cur = 0, end = 0;
};
BlockJobState block_job_state(const Domain& domain, const std::string& target);

struct CommitRequest {
    std::string target;                   // "vda"
    std::string top;                      // the overlay, the disk's active image
    std::string base;                     // the overlay's immediate backing image
    std::chrono::milliseconds timeout{0}; // 0: wait for ever
    unsigned long bandwidth_mib = 0;      // MiB/s; 0: as fast as the storage allows
};

// Commits request.top into request.base and pivots the disk onto base. A
// commit job already running on the disk (left by a killed run) is adopted
// rather than started again.
class ActiveCommit {
  public:
    // Starts the job (or adopts the one running); throws when it cannot.
    ActiveCommit(const Domain& domain, BlockJobEvents& events, CommitRequest request,
                 util::Progress& progress);

    // Looks at the job once and pivots when it is ready. True when the
    // commit is over: pivoted, or the job gone (the caller checks the disk's
    // chain to tell which). Throws on failure; a timeout cancels the job
    // first, leaving the disk on its overlay.
    bool poll();

  private:
    const Domain& domain_;
    BlockJobEvents& events_;
    CommitRequest request_;
    util::Progress& progress_;
    std::chrono::steady_clock::time_point start_;
};

// How often a commit is looked at when no block-job event arrives.
constexpr std::chrono::milliseconds commit_poll_interval{250};

} // namespace virtsnap::virt
