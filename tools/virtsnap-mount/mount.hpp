#pragma once

#include "cli/exit_status.hpp"

namespace virtsnap::mount {

cli::ExitStatus run_mount(int argc, char** argv);

} // namespace virtsnap::mount
