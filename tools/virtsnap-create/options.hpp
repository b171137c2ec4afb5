#pragma once

#include "cli/common_options.hpp"
#include "cli/snapshot_options.hpp"

#include <optional>
#include <string>

namespace virtsnap::create {

struct Options {
    cli::CommonOptions common;
    std::string domain;
    cli::SnapshotOptions snapshot;
};

// nullopt when --help or --version was answered.
std::optional<Options> parse_options(int argc, char** argv);

} // namespace virtsnap::create
