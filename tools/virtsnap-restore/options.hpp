#pragma once

#include "cli/common_options.hpp"

#include <optional>
#include <string>
#include <vector>

namespace virtsnap::restore {

struct Options {
    cli::CommonOptions common;
    std::string set;
    std::string output_dir;
    std::string format; // empty: each disk's backup format
    std::vector<std::string> disks;
    std::string define_name;
    bool force = false;
    std::string guest_path; // --file
    std::string host_path;  // --to
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::restore
