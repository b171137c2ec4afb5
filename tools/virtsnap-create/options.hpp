#pragma once

#include "cli/common_options.hpp"
#include "virt/snapshot.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::create {

struct Options {
    cli::CommonOptions common;
    std::string domain;
    std::vector<std::string> disks;
    std::vector<std::string> excluded_disks;
    virt::QuiesceMode quiesce = virt::QuiesceMode::automatic;
    std::chrono::milliseconds freeze_timeout{10000};
    std::chrono::milliseconds agent_timeout{5000};
    std::string overlay_dir;                    // empty: next to each image
    std::optional<std::uint64_t> overlay_space; // expected growth per overlay filesystem
    std::string state_dir;
    std::string snapshot_id; // empty: generated
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::create
