#include "job/backup_all.hpp"

#include "job/backup_domain.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <algorithm>

namespace virtsnap::job {

namespace {

bool contains(const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
}

} // namespace

DomainChoice choose_domains(const std::vector<std::string>& names, const std::vector<std::string>& included,
                            const std::vector<std::string>& excluded) {
    DomainChoice choice;
    for (const std::string& name : names) {
        if (contains(excluded, name) || (!included.empty() && !contains(included, name)))
            choice.left_out.push_back(name);
        else
            choice.chosen.push_back(name);
    }
    for (const std::string& name : included)
        if (!contains(names, name) && !contains(excluded, name) && !contains(choice.chosen, name))
            choice.chosen.push_back(name);
    return choice;
}

FleetOutcome backup_all(const virt::Connection& conn,
                        const std::function<BackupSettings(const std::string& name)>& settings_for,
                        const std::vector<std::string>& included, const std::vector<std::string>& excluded,
                        const util::Log& log, const std::function<void(const SetSummary&)>& on_set,
                        const FailureReport& on_failure) {
    FleetOutcome outcome;
    const DomainChoice choice = choose_domains(conn.domain_names(), included, excluded);
    for (const std::string& name : choice.left_out)
        log.info(name + (contains(excluded, name) ? ": left out (--exclude-domain)"
                                                  : ": left out (not an --include-domain)"));
    const std::vector<std::string>& names = choice.chosen;
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
