#pragma once
// The copy options virtsnap-copy and virtsnap-backup share (--format,
// --compress, --jobs), bound straight to the copy settings and checked alike.

#include "copy/disk_copy.hpp"

#include <boost/program_options/options_description.hpp>

namespace virtsnap::cli {

void add_copy_options(boost::program_options::options_description& desc, copy::CopySettings& settings);

// Throws UsageError for a format other than qcow2/raw, a --jobs out of
// range, and --compress or --keep-chain with raw.
void finish_copy_options(const copy::CopySettings& settings);

} // namespace virtsnap::cli
