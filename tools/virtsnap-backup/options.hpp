#pragma once

#include "cli/common_options.hpp"
#include "cli/snapshot_options.hpp"
#include "copy/disk_copy.hpp"
#include "virt/merge_overlays.hpp"

#include <optional>
#include <string>

namespace virtsnap::backup {

struct Options {
    cli::CommonOptions common;
    std::string domain; // empty with --all
    bool all = false;
    std::string dest;
    cli::SnapshotOptions snapshot;
    copy::CopySettings copy; // format, compress, jobs; the directory is the set's
    bool verify = true;
    unsigned keep = 0; // 0: keep every set
    virt::MergeSettings merge;
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::backup
