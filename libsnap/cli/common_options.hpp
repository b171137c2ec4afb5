#pragma once
// The options every tool has (virtsnap(7)): --help, --version,
// -c/--connect, -q/--quiet, -v/--verbose.

#include "util/log.hpp"

#include <boost/program_options/options_description.hpp>

#include <string>

namespace virtsnap::cli {

struct CommonOptions {
    bool help = false;
    bool version = false;
    bool quiet = false;
    bool verbose = false;
    std::string connect_uri; // empty: libvirt's default

    util::Verbosity verbosity() const;
};

// Adds the common options to desc; with_connect for tools that talk to libvirt.
void add_common_options(boost::program_options::options_description& desc, CommonOptions& options,
                        bool with_connect);

// Throws UsageError for contradictions between common options.
void check_common_options(const CommonOptions& options);

// "NAME (virtsnap) X.Y.Z" — what --version prints.
std::string version_line(const std::string& program);

} // namespace virtsnap::cli
