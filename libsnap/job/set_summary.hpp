#pragma once
// virtsnap-list --summary: per domain, the newest complete set, its age,
// how many complete sets there are and what they occupy, and a verdict a
// monitoring check can act on (Nagios plugin conventions: OK, WARNING,
// CRITICAL). Reads the sets only, as the listing does.

#include "store/backup_set.hpp"

#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::job {

enum class Verdict { ok = 0, warning = 1, critical = 2 };

struct DomainSummary {
    std::string domain;
    std::string newest;              // the newest complete set's id; empty when none
    std::optional<std::int64_t> age; // its age in seconds (never negative)
    std::size_t complete_sets = 0;   // complete, readable and (incremental) on a chain that holds
    std::uint64_t allocated = 0;     // what those occupy
    Verdict verdict = Verdict::ok;
    std::string reason; // why it is not ok
};

// Critical: no complete set, or (with max_age) the newest complete set is
// older than max_age. Warning: a damaged set, a set whose chain is broken
// (never the newest complete set: it is no restore point), or a failed
// check recorded in the newest complete set. sets as find_sets gives them
// (by domain, oldest first); now: the time to measure ages against.
std::vector<DomainSummary> summarize_sets(const std::vector<store::BackupSet>& sets, std::time_t now,
                                          std::optional<std::chrono::seconds> max_age);

// The worst verdict; critical when there is no domain at all.
Verdict overall_verdict(const std::vector<DomainSummary>& domains);

// "45s", "12m 05s", "3h 05m", "2d 04h".
std::string format_age(std::int64_t seconds);

// The status line first ("VIRTSNAP OK: ...", "VIRTSNAP CRITICAL: ..."),
// then one row per domain.
std::string render_summary_table(const std::vector<DomainSummary>& domains,
                                 std::optional<std::chrono::seconds> max_age);
// One object: the verdict and one member per domain (virtsnap-list(1)).
std::string render_summary_json(const std::vector<DomainSummary>& domains,
                                std::optional<std::chrono::seconds> max_age);

} // namespace virtsnap::job
