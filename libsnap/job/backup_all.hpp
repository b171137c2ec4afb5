#pragma once
// Every domain of a connection, one after another: one domain's failure
// does not stop the others.

#include "job/backup_settings.hpp"
#include "util/log.hpp"
#include "virt/connection.hpp"

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace virtsnap::job {

struct FleetOutcome {
    std::size_t domains = 0;
    std::size_t done = 0;
    std::vector<std::string> failed; // names, "NAME (not started: interrupted)" for those skipped
};

// Backs up every domain but the excluded ones, each with the settings
// settings_for gives it (a configuration file's section may change them; an
// error there fails that domain only); on_set is called with each set made,
// on_failure (when set) with each domain that failed, its error and how
// long it took.
using FailureReport =
    std::function<void(const std::string& name, const std::exception& error, std::chrono::milliseconds took)>;
FleetOutcome backup_all(const virt::Connection& conn,
                        const std::function<BackupSettings(const std::string& name)>& settings_for,
                        const std::vector<std::string>& excluded, const util::Log& log,
                        const std::function<void(const SetSummary&)>& on_set,
                        const FailureReport& on_failure = {});

} // namespace virtsnap::job
