#pragma once

#include "cli/exit_status.hpp"

namespace virtsnap::copy_tool {

cli::ExitStatus run_copy(int argc, char** argv);

} // namespace virtsnap::copy_tool
