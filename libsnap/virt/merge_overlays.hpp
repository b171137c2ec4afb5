#pragma once
// Brings a domain back from virtsnap overlays to exactly the chains recorded
// before the snapshot, and removes the overlays — the one procedure behind
// virtsnap-commit, its --recover, and every cleanup path of the other tools.
//
// Per disk it looks at where the domain really is, not where a record says it
// should be:
//   running, on the overlay      shallow active commit + pivot (adopting a
//                                commit job a killed run left behind)
//   shut off, on the overlay     offline `qemu-img commit` into the immediate
//                                backing image + a corrected definition
//   already on the frozen image  nothing to merge
//   anything else                refused: someone else changed the disk
// then checks the live chain, checks (and if needed fixes) the persistent
// definition, and only then deletes the overlay — and only a file that is
// recognisably this snapshot's overlay of that image. Each step reads the
// domain's definitions once for all disks.

#include "util/log.hpp"
#include "virt/connection.hpp"
#include "xml/snapshot_disk.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace virtsnap::virt {

// The highest --bandwidth accepted, in MiB/s (1 TiB/s): far above any
// storage, well inside what libvirt converts to bytes per second.
constexpr unsigned long max_bandwidth_mib = 1UL << 20;

struct MergeSettings {
    std::chrono::milliseconds timeout{0}; // per disk, for the active commit; 0: none
    unsigned long bandwidth_mib = 0;      // per disk, MiB/s; 0: unlimited
};

// Merges every disk of snapshot snapshot_id. Disks are independent: one that
// fails does not stop the others. Idempotent. Throws RefusedError when
// nothing was changed and a disk was refused, PartialFailure when some disks
// were merged and others failed (the message says which), Error otherwise.
void merge_overlays(const Connection& conn, const Domain& domain, const std::string& snapshot_id,
                    const std::vector<xml::SnapshotDisk>& disks, const MergeSettings& settings,
                    const util::Log& log);

// True when any disk of the domain (live definition when running, else the
// persistent one) is on a file named like a virtsnap overlay.
bool on_virtsnap_overlay(const Domain& domain, std::string* which);

// The disks of the domain that run on a virtsnap overlay, as merge_overlays
// takes them (frozen: the image under the overlay), for a domain whose
// records are lost or damaged; snapshot_id gets the snapshot they are of.
// Empty when no disk is on one. RefusedError when they are of several
// snapshots, or an overlay has no image under it.
std::vector<xml::SnapshotDisk> overlays_in_use(const Domain& domain, std::string& snapshot_id);

} // namespace virtsnap::virt
