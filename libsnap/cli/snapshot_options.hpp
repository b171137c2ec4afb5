#pragma once
// The snapshot options virtsnap-create and virtsnap-backup share: disks,
// quiesce, timeouts, overlays, state directory. Defined once so the two
// tools spell, default and check them alike.

#include "virt/domain_snapshot.hpp"

#include <boost/program_options/options_description.hpp>

#include <string>

namespace virtsnap::cli {

struct SnapshotOptions {
    virt::SnapshotSettings settings;
    // As typed; turned into settings by finish_snapshot_options.
    std::string quiesce = "auto";
    std::string freeze_timeout = "10s";
    std::string agent_timeout = "5s";
    std::string thaw_timeout = "60s";
    std::string overlay_space;
};

// with_snapshot_id: offer --snapshot-id (virtsnap-create only; a backup set
// takes its id from the snapshot).
void add_snapshot_options(boost::program_options::options_description& desc, SnapshotOptions& options,
                          bool with_snapshot_id);

// Parses what was typed into options.settings; throws UsageError.
void finish_snapshot_options(SnapshotOptions& options);

// Throws UsageError when a disk target is not one (like vda) or is named
// twice; option names the option ("disk").
void check_disk_targets(const std::vector<std::string>& targets, const std::string& option);

} // namespace virtsnap::cli
