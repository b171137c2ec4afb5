#pragma once

#include "cli/exit_status.hpp"

namespace virtsnap::commit {

cli::ExitStatus run_commit(int argc, char** argv);

} // namespace virtsnap::commit
