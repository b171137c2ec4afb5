#pragma once

#include "cli/common_options.hpp"

#include <optional>
#include <string>

namespace virtsnap::verify_tool {

struct Options {
    cli::CommonOptions common;
    std::string manifest = "-";  // a file, or "-" for standard input
    std::string backup_dir;      // a stored backup directory instead of a manifest
    bool source = false;         // compare with the frozen source
    bool checksums = false;      // re-hash against the recorded checksums
    bool qemu_checksums = false; // the same, read where qemu-img map places the content
    bool filesystems = false;    // check the filesystems through libguestfs
    bool chain = false;          // also the sets an incremental set depends on
};

// nullopt when --help or --version was answered. Fills in the default
// checks: --source for a manifest, --checksums for a backup directory.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::verify_tool
