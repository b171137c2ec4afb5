#pragma once
// The copy options virtsnap-copy and virtsnap-backup share (--format,
// --compress, --jobs), defined and checked alike.

#include "copy/disk_copy.hpp"

#include <boost/program_options/options_description.hpp>

#include <string>

namespace virtsnap::cli {

struct CopyOptions {
    copy::CopySettings settings;
    std::string jobs = "1"; // as typed; parsed by finish_copy_options
};

void add_copy_options(boost::program_options::options_description& desc, CopyOptions& options);

// Fills options.settings from what was typed. Throws UsageError for a
// format other than qcow2/raw, a --jobs that is not a number from 1 to 64,
// and --compress or --keep-chain with raw.
void finish_copy_options(CopyOptions& options);

} // namespace virtsnap::cli
