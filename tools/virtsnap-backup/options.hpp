#pragma once

#include "cli/common_options.hpp"
#include "cli/snapshot_options.hpp"
#include "job/backup_settings.hpp"

#include <optional>
#include <string>

namespace virtsnap::backup {

struct Options {
    cli::CommonOptions common;
    std::string domain; // empty with --all
    bool all = false;
    job::BackupSettings backup; // dest as typed; made absolute before the run
    std::string metrics_file;   // empty: none
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::backup
