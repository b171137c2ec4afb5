#pragma once

#include "cli/common_options.hpp"
#include "job/restore_disks.hpp"

#include <optional>
#include <string>

namespace virtsnap::restore {

struct Options {
    cli::CommonOptions common;
    std::string set;   // a set's directory; with --until, a domain's directory of sets
    std::string until; // --until: a set id in that directory, or "latest"
    job::RestoreSettings restore;
    std::string guest_path; // --file
    std::string host_path;  // --to
    bool instant = false;   // --instant
    std::string finish;     // --finish NAME
    std::string state_dir;  // --state-dir
    unsigned long bandwidth_mib = 0;
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::restore
