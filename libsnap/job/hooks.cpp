#include "job/hooks.hpp"

#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::job {

using util::quoted;

std::string Hooks::failure(const std::string& phase, const HookEnvironment& environment) const {
    if (!active())
        return "";
    HookEnvironment full = environment;
    full.emplace_back("VIRTSNAP_PHASE", phase);
    log_.debug("hook " + quoted(settings_.script) + " " + phase);
    util::AttachedResult result;
    try {
        result = util::run_attached({settings_.script, phase}, full, settings_.timeout);
    } catch (const util::Error& error) {
        return error.what();
    }
    if (result.timed_out)
        return "did not end within " + std::to_string(settings_.timeout.count() / 1000) +
               " s (--hook-timeout) and was stopped";
    if (result.signal != 0)
        return "was killed by signal " + std::to_string(result.signal);
    if (result.exit_status != 0)
        return "exited with status " + std::to_string(result.exit_status);
    return "";
}

bool Hooks::run(const std::string& phase, const HookEnvironment& environment) const {
    const std::string problem = failure(phase, environment);
    if (problem.empty())
        return true;
    log_.warn("hook " + quoted(settings_.script) + " at " + phase + " " + problem);
    return false;
}

void Hooks::require(const std::string& phase, const HookEnvironment& environment) const {
    const std::string problem = failure(phase, environment);
    if (!problem.empty())
        throw util::RefusedError("hook " + quoted(settings_.script) + " at " + phase + " " + problem);
}

void check_hook_script(const std::string& script) {
    if (script.empty())
        return;
    struct stat st {};
    if (script.find('/') == std::string::npos)
        throw util::UsageError("--hook " + quoted(script) + ": give the script's path (./" + script + ")");
    if (::stat(script.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(script.c_str(), X_OK) != 0)
        throw util::UsageError("--hook " + quoted(script) + " is not an executable file");
}

} // namespace virtsnap::job
