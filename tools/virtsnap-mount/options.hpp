#pragma once

#include "cli/common_options.hpp"

#include <optional>
#include <string>
#include <vector>

namespace virtsnap::mount {

enum class Mode { mount, nbd, unmount };

struct Options {
    cli::CommonOptions common;
    Mode mode = Mode::mount;
    std::string set;         // a set's directory; with --until, a domain's directory of sets
    std::string until;       // --until: a set id in that directory, or "latest"
    std::string mount_point; // the mount's directory; with -u, the mount to remove
    std::string socket;      // --nbd
    std::vector<std::string> disks;
    bool force = false;
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::mount
