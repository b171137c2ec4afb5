#pragma once
// Every tool's main() is one line: return cli::run(argc, argv, "NAME", body).
// run() prepares the C libraries (silenced error printing), calls the body,
// and turns each exception type into one "NAME: error: ..." line on stderr and
// its documented exit status.

#include "cli/exit_status.hpp"

#include <exception>
#include <functional>
#include <string>

namespace virtsnap::cli {

using ToolBody = std::function<ExitStatus(int argc, char** argv)>;

int run(int argc, char** argv, const std::string& program, const ToolBody& body);

// The exit status for an exception thrown out of a tool's body.
ExitStatus exit_status_for(const std::exception& error);

} // namespace virtsnap::cli
