#pragma once

#include "cli/common_options.hpp"
#include "copy/disk_copy.hpp"

#include <optional>
#include <string>

namespace virtsnap::copy_tool {

struct Options {
    cli::CommonOptions common;
    std::string manifest = "-"; // a file, or "-" for standard input
    std::string output_dir;     // -o DIR
    // format, keep_chain, compress, force, jobs
    copy::CopySettings copy;
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::copy_tool
