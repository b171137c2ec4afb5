#pragma once

#include "cli/exit_status.hpp"
#include "options.hpp"
#include "util/log.hpp"

namespace virtsnap::commit {

cli::ExitStatus run_commit(int argc, char** argv);

// --recover DOMAIN (recover.cpp).
cli::ExitStatus run_recover(const Options& options, const util::Log& log);

} // namespace virtsnap::commit
