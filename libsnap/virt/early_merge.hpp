#pragma once
// Merges a disk's overlay back as soon as nothing reads its frozen image
// any more (copied, and verified when the verification compares with that
// image), while the other disks are still being copied or verified: a
// domain's merge then costs a backup little more than its last disk's,
// instead of every disk's after the copying. On a thread of its own; the
// disks waiting when it starts a merge are merged together, side by side.
//
// Only ever an early start: a merge that fails here is logged and left to
// the PendingCommit that must outlive this object, whose finish() (or
// destructor) merges every disk of the snapshot again — a disk already on
// its frozen image is nothing to do there.

#include "util/log.hpp"
#include "virt/connection.hpp"
#include "virt/merge_overlays.hpp"
#include "xml/snapshot_disk.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace virtsnap::virt {

class EarlyMerge {
  public:
    EarlyMerge(const Connection& conn, const Domain& domain, std::string snapshot_id, MergeSettings settings,
               const util::Log& log);
    // Waits for the merge in progress and drops the disks still queued
    // (the PendingCommit merges them).
    ~EarlyMerge();
    EarlyMerge(const EarlyMerge&) = delete;
    EarlyMerge& operator=(const EarlyMerge&) = delete;

    // Queues the disk, whose frozen image nothing will read any more. Safe
    // from any thread.
    void push(const xml::SnapshotDisk& disk);
    // Waits for every queued disk.
    void finish();

  private:
    void run();

    const Connection& conn_;
    const Domain& domain_;
    const std::string snapshot_id_;
    const MergeSettings settings_;
    const util::Log& log_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<xml::SnapshotDisk> queued_;
    bool closing_ = false;
    bool abandoned_ = false;
    std::thread worker_; // last: started once everything above exists
};

} // namespace virtsnap::virt
