#pragma once
// virtsnap-backup --hook SCRIPT: the user's program, called at each phase of
// a run with the phase as its first argument and the run's facts in
// VIRTSNAP_* environment variables (vzdump's hook interface is the model;
// the phases and variables are in virtsnap-backup(1)). Its output goes to
// virtsnap's stderr, it runs in a process group of its own, and a hook that
// outlives --hook-timeout is ended with its group.
//
// Before the snapshot a failing hook stops the domain's backup (nothing was
// changed); after it, a failure is a warning: nothing a hook says stops a
// commit.

#include "util/log.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace virtsnap::job {

using HookEnvironment = std::vector<std::pair<std::string, std::string>>;

struct HookSettings {
    std::string script; // empty: no hook
    std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

class Hooks {
  public:
    Hooks(HookSettings settings, const util::Log& log) : settings_(std::move(settings)), log_(log) {}

    bool active() const noexcept { return !settings_.script.empty(); }
    // Runs the hook; true when it succeeded or there is none. A failure is
    // logged as a warning naming the phase.
    bool run(const std::string& phase, const HookEnvironment& environment) const;
    // The same for a phase that may stop what follows: RefusedError when
    // the hook failed.
    void require(const std::string& phase, const HookEnvironment& environment) const;

  private:
    std::string failure(const std::string& phase, const HookEnvironment& environment) const;

    HookSettings settings_;
    const util::Log& log_;
};

// Refuses (UsageError) a hook that is not an executable regular file, before
// anything is done.
void check_hook_script(const std::string& script);

} // namespace virtsnap::job
