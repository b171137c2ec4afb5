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

// Which domains a run backs up, from the connection's names: every domain,
// or only the included ones when any are named, less the excluded ones. An
// included name the connection does not have stays in the list (after the
// others), so that its backup fails and says so: a domain renamed or
// undefined must not drop out of the nightly run unnoticed.
struct DomainChoice {
    std::vector<std::string> chosen;
    std::vector<std::string> left_out; // excluded, or not among the included
};
DomainChoice choose_domains(const std::vector<std::string>& names, const std::vector<std::string>& included,
                            const std::vector<std::string>& excluded);

// Backs up the domains choose_domains picks, each with the settings
// settings_for gives it (a configuration file's section may change them; an
// error there fails that domain only); on_set is called with each set made,
// on_failure (when set) with each domain that failed, its error and how
// long it took.
using FailureReport =
    std::function<void(const std::string& name, const std::exception& error, std::chrono::milliseconds took)>;
FleetOutcome backup_all(const virt::Connection& conn,
                        const std::function<BackupSettings(const std::string& name)>& settings_for,
                        const std::vector<std::string>& included, const std::vector<std::string>& excluded,
                        const util::Log& log, const std::function<void(const SetSummary&)>& on_set,
                        const FailureReport& on_failure = {});

} // namespace virtsnap::job
