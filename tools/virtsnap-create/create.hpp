#pragma once

#include "cli/exit_status.hpp"

namespace virtsnap::create {

cli::ExitStatus run_create(int argc, char** argv);

} // namespace virtsnap::create
