#pragma once

#include "cli/common_options.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace virtsnap::list {

struct Options {
    cli::CommonOptions common;
    std::string dest;
    std::string domain; // empty: every domain under DEST
    bool json = false;
    bool summary = false;
    bool tree = false;
    std::optional<std::chrono::seconds> max_age; // with --summary
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::list
