#pragma once

#include "cli/exit_status.hpp"

namespace virtsnap::backup {

cli::ExitStatus run_backup(int argc, char** argv);

} // namespace virtsnap::backup
