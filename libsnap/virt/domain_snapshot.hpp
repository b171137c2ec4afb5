#pragma once
// Takes the snapshot a backup starts from: the disks chosen, the overlays
// planned and checked, the journal written before the domain is touched,
// the quiesced (or crash-consistent) snapshot taken and checked, and any
// snapshot that must not stand merged back at once. virtsnap-create and
// virtsnap-backup share it.

#include "store/state_record.hpp"
#include "store/tracking_record.hpp"
#include "util/log.hpp"
#include "virt/connection.hpp"
#include "virt/snapshot.hpp"
#include "xml/manifest.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::virt {

struct SnapshotSettings {
    std::vector<std::string> disks; // empty: every eligible disk
    std::vector<std::string> excluded_disks;
    QuiesceMode quiesce = QuiesceMode::automatic;
    std::chrono::milliseconds freeze_timeout{10000};
    std::chrono::milliseconds agent_timeout{5000};
    std::chrono::milliseconds thaw_timeout{60000};
    std::string overlay_dir;                    // empty: next to each image
    std::optional<std::uint64_t> overlay_space; // expected growth per overlay filesystem
    std::string state_dir;
    std::string snapshot_id; // empty: generated
    // The backup set the run writes, recorded in the state record so that
    // 'virtsnap-commit --recover' removes it when the run dies unfinished.
    std::string set_dir;
    // The domain's change record, when a full or inc backup left it on
    // kept overlays: those are expected (not refused), the new overlays are
    // named after the disks' own images, and the state record names the
    // kept overlays' snapshot as the one below.
    std::optional<store::TrackingRecord> tracking;
};

// Refuses (RefusedError) a domain on a virtsnap overlay that the change
// record, when there is one, does not name.
// recovering: worded for --recover, which names the --state-dir to use.
void check_overlays_explained(const Domain& domain, const std::optional<store::TrackingRecord>& tracking,
                              const std::string& state_dir, bool recovering = false);

// The caller holds the domain's lock (store::DomainLock) and has checked the
// domain runs. Refuses (RefusedError) an unfinished earlier run or a domain
// already on an overlay. On return the domain runs on the overlays and the
// state record says "snapshotted"; on any failure or signal the domain is
// back on its images and the exception says what happened.
xml::Manifest snapshot_domain(const Connection& conn, const Domain& domain, const SnapshotSettings& settings,
                              const util::Log& log);

// The state record snapshot_domain left for manifest (stage snapshotted):
// what a PendingCommit merges.
store::StateRecord snapshot_record(const xml::Manifest& manifest, const SnapshotSettings& settings);

} // namespace virtsnap::virt
