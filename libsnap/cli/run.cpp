#include "cli/run.hpp"

#include "util/error.hpp"

#include <boost/program_options/errors.hpp>

#include <cstdio>
#include <new>

namespace virtsnap::cli {

ExitStatus exit_status_for(const std::exception& error) {
    if (dynamic_cast<const util::UsageError*>(&error) ||
        dynamic_cast<const boost::program_options::error*>(&error))
        return ExitStatus::usage;
    if (dynamic_cast<const util::InputError*>(&error))
        return ExitStatus::bad_input;
    if (dynamic_cast<const util::VerificationMismatch*>(&error))
        return ExitStatus::mismatch;
    if (dynamic_cast<const util::RefusedError*>(&error))
        return ExitStatus::refused;
    if (dynamic_cast<const util::Interrupted*>(&error))
        return ExitStatus::interrupted;
    if (dynamic_cast<const util::PartialFailure*>(&error))
        return ExitStatus::partial;
    if (dynamic_cast<const util::GuestFrozen*>(&error))
        return ExitStatus::frozen;
    return ExitStatus::failure;
}

namespace {

// One line, whatever the message holds: a libvirt message with a newline
// or a name with a terminal escape is written out as \n or \xNN.
void print_error(const std::string& program, const std::string& message) {
    std::string line = program + ": error: " + util::printable(message) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace

int run(int argc, char** argv, const std::string& program, const ToolBody& body) {
    try {
        ExitStatus status = body(argc, argv);
        if (std::fflush(stdout) != 0) {
            print_error(program, "cannot write to standard output");
            return to_int(ExitStatus::failure);
        }
        return to_int(status);
    } catch (const std::bad_alloc&) {
        print_error(program, "out of memory");
        return to_int(ExitStatus::failure);
    } catch (const std::exception& error) {
        ExitStatus status = exit_status_for(error);
        std::string message = error.what();
        if (status == ExitStatus::usage)
            message += " (see '" + program + " --help')";
        print_error(program, message);
        return to_int(status);
    }
}

} // namespace virtsnap::cli
