#pragma once

#include "cli/common_options.hpp"
#include "cli/snapshot_options.hpp"
#include "job/backup_settings.hpp"

#include <optional>
#include <string>
#include <vector>

namespace virtsnap::backup {

struct Options {
    cli::CommonOptions common;
    std::string domain; // empty with --all
    bool all = false;
    job::BackupSettings backup;                // dest as typed; made absolute before the run
    std::string metrics_file;                  // empty: none
    std::string log_file;                      // empty: none
    std::vector<std::string> included_domains; // with --all; empty: every domain
    std::vector<std::string> excluded_domains; // with --all
    std::vector<std::string> config_warnings;  // mistakes in other domains' sections of the file
};

// The configuration file read when --config names none (when it exists).
constexpr const char* default_config_file = "/etc/virtsnap/virtsnap.conf";

// nullopt when --help or --version was answered. The configuration file's
// [domain:NAME] section applied is that of section_domain, else that of the
// domain on the command line.
std::optional<Options> parse_options(int argc, char** argv, const std::string& section_domain = "");

} // namespace virtsnap::backup
