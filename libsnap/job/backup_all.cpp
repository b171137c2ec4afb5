#include "job/backup_all.hpp"

#include "job/backup_domain.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <algorithm>

namespace virtsnap::job {

FleetOutcome backup_all(const virt::Connection& conn,
                        const std::function<BackupSettings(const std::string& name)>& settings_for,
                        const std::vector<std::string>& excluded, const util::Log& log,
                        const std::function<void(const SetSummary&)>& on_set,
                        const FailureReport& on_failure) {
    FleetOutcome outcome;
    std::vector<std::string> names;
    for (const std::string& name : conn.domain_names()) {
        if (std::find(excluded.begin(), excluded.end(), name) == excluded.end())
            names.push_back(name);
        else
            log.info(name + ": left out (--exclude-domain)");
    }
    outcome.domains = names.size();
    if (names.empty()) {
        log.info("the connection " + conn.uri() + " has no domains; nothing to back up");
        return outcome;
    }
    for (const std::string& name : names) {
        if (util::interrupted()) {
            outcome.failed.push_back(name + " (not started: interrupted)");
            continue;
        }
        const auto start = std::chrono::steady_clock::now();
        try {
            on_set(backup_domain(conn, name, settings_for(name), log));
            ++outcome.done;
        } catch (const util::Error& error) {
            log.warn(name + ": " + error.what());
            outcome.failed.push_back(name);
            if (on_failure)
                on_failure(name, error,
                           std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - start));
        }
    }
    log.info(std::to_string(names.size()) + " domain(s): " + std::to_string(outcome.done) + " backed up" +
             (outcome.failed.empty() ? "" : ", " + std::to_string(outcome.failed.size()) + " failed"));
    if (!outcome.failed.empty()) {
        std::string list;
        for (const std::string& name : outcome.failed)
            list += (list.empty() ? "" : ", ") + name;
        log.warn("failed: " + list);
    }
    return outcome;
}

} // namespace virtsnap::job
