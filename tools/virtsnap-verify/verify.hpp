#pragma once

#include "cli/exit_status.hpp"

namespace virtsnap::verify_tool {

cli::ExitStatus run_verify(int argc, char** argv);

} // namespace virtsnap::verify_tool
