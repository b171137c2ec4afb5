#pragma once

#include "cli/common_options.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace virtsnap::commit {

struct Options {
    cli::CommonOptions common;
    std::string manifest = "-";                        // a file, or "-" for standard input
    std::string recover_domain;                        // --recover DOMAIN
    std::chrono::milliseconds timeout{30 * 60 * 1000}; // per disk; 0: none
    unsigned long bandwidth_mib = 0;                   // 0: unlimited
    std::string state_dir;
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::commit
