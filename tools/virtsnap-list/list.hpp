#pragma once

#include "cli/exit_status.hpp"

namespace virtsnap::list {

cli::ExitStatus run_list(int argc, char** argv);

} // namespace virtsnap::list
