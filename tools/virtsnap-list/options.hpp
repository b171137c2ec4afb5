#pragma once

#include "cli/common_options.hpp"

#include <optional>
#include <string>

namespace virtsnap::list {

struct Options {
    cli::CommonOptions common;
    std::string dest;
    std::string domain; // empty: every domain under DEST
    bool json = false;
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::list
