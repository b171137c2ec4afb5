#pragma once

#include "cli/common_options.hpp"

#include <optional>
#include <string>

namespace virtsnap::copy_tool {

struct Options {
    cli::CommonOptions common;
    std::string manifest = "-"; // a file, or "-" for standard input
    std::string output_dir;     // -o DIR
    std::string format = "qcow2";
    bool keep_chain = false;
    bool compress = false;
    bool force = false;
    unsigned jobs = 1;
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::copy_tool
