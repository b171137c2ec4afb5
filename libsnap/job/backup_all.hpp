#pragma once
// Every domain of a connection, one after another: one domain's failure
// does not stop the others.

#include "job/backup_settings.hpp"
#include "util/log.hpp"
#include "virt/connection.hpp"

#include <functional>
#include <string>
#include <vector>

namespace virtsnap::job {

struct FleetOutcome {
    std::size_t domains = 0;
    std::size_t done = 0;
    std::vector<std::string> failed; // names, "NAME (not started: interrupted)" for those skipped
};

// Backs up every domain; on_set is called with each set made.
FleetOutcome backup_all(const virt::Connection& conn, const BackupSettings& settings, const util::Log& log,
                        const std::function<void(const SetSummary&)>& on_set);

} // namespace virtsnap::job
