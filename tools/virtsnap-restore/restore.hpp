#pragma once

#include "cli/exit_status.hpp"

namespace virtsnap::restore {

cli::ExitStatus run_restore(int argc, char** argv);

} // namespace virtsnap::restore
