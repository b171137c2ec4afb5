#pragma once

#include "cli/common_options.hpp"
#include "job/pipeline.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace virtsnap::commit {

struct Options {
    cli::CommonOptions common;
    std::string manifest = "-"; // a file, or "-" for standard input
    std::string recover_domain; // --recover DOMAIN
    std::string end_tracking;   // --end-tracking DOMAIN
    job::CommitSettings commit;
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::commit
