#include "job/set_summary.hpp"

#include "job/set_listing.hpp"
#include "store/set_layout.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace virtsnap::job {

namespace {

// The status line's word, and JSON's.
const char* verdict_name(Verdict verdict) {
    return verdict == Verdict::ok ? "OK" : verdict == Verdict::warning ? "WARNING" : "CRITICAL";
}
const char* verdict_json(Verdict verdict) {
    return verdict == Verdict::ok ? "ok" : verdict == Verdict::warning ? "warning" : "critical";
}

void worsen(DomainSummary& summary, Verdict verdict, const std::string& reason) {
    if (verdict < summary.verdict)
        return;
    if (verdict > summary.verdict)
        summary.reason.clear();
    summary.verdict = verdict;
    summary.reason += (summary.reason.empty() ? "" : "; ") + reason;
}

DomainSummary summarize_domain(const std::vector<SetRow>& rows, std::time_t now,
                               std::optional<std::chrono::seconds> max_age) {
    DomainSummary summary;
    summary.domain = rows.front().domain;
    const SetRow* newest = nullptr;
    std::size_t damaged = 0, broken = 0;
    for (const SetRow& row : rows) {
        if (row.state == "damaged")
            ++damaged;
        if (row.state == "broken-chain")
            ++broken;
        if (row.state != "complete")
            continue;
        ++summary.complete_sets;
        summary.allocated =
            summary.allocated > UINT64_MAX - row.allocated ? UINT64_MAX : summary.allocated + row.allocated;
        newest = &row; // oldest first: the last one wins
    }
    if (damaged > 0)
        worsen(summary, Verdict::warning, std::to_string(damaged) + " damaged set(s)");
    if (broken > 0)
        worsen(summary, Verdict::warning,
               std::to_string(broken) + " set(s) with a broken chain (not restorable)");
    if (!newest) {
        worsen(summary, Verdict::critical, "no complete backup set");
        return summary;
    }
    summary.newest = newest->id;
    if (newest->verified == "mismatch")
        worsen(summary, Verdict::warning, "the newest complete set failed a check");
    if (std::optional<std::time_t> taken = store::set_id_time(newest->id))
        summary.age = std::max<std::int64_t>(0, static_cast<std::int64_t>(now - *taken));
    if (max_age && (!summary.age || *summary.age > max_age->count()))
        worsen(summary, Verdict::critical,
               "the newest complete set is " + (summary.age ? format_age(*summary.age) : "of unknown age") +
                   " old, more than --max-age " + format_age(max_age->count()));
    return summary;
}

} // namespace

std::vector<DomainSummary> summarize_sets(const std::vector<store::BackupSet>& sets, std::time_t now,
                                          std::optional<std::chrono::seconds> max_age) {
    std::vector<DomainSummary> domains;
    std::vector<SetRow> rows;
    for (SetRow& row : set_rows(sets)) {
        if (!rows.empty() && rows.front().domain != row.domain) {
            domains.push_back(summarize_domain(rows, now, max_age));
            rows.clear();
        }
        rows.push_back(std::move(row));
    }
    if (!rows.empty())
        domains.push_back(summarize_domain(rows, now, max_age));
    return domains;
}

Verdict overall_verdict(const std::vector<DomainSummary>& domains) {
    if (domains.empty())
        return Verdict::critical;
    Verdict worst = Verdict::ok;
    for (const DomainSummary& domain : domains)
        worst = std::max(worst, domain.verdict);
    return worst;
}

std::string format_age(std::int64_t seconds) {
    auto two = [](std::int64_t n) { return (n < 10 ? "0" : "") + std::to_string(n); };
    if (seconds < 60)
        return std::to_string(seconds) + "s";
    if (seconds < 3600)
        return std::to_string(seconds / 60) + "m " + two(seconds % 60) + "s";
    if (seconds < 86400)
        return std::to_string(seconds / 3600) + "h " + two(seconds % 3600 / 60) + "m";
    return std::to_string(seconds / 86400) + "d " + two(seconds % 86400 / 3600) + "h";
}

std::string render_summary_table(const std::vector<DomainSummary>& domains,
                                 std::optional<std::chrono::seconds> max_age) {
    const Verdict verdict = overall_verdict(domains);
    std::string status = std::string("VIRTSNAP ") + verdict_name(verdict) + ": ";
    if (domains.empty()) {
        status += "no backup sets";
    } else if (verdict == Verdict::ok) {
        status += std::to_string(domains.size()) + " domain(s), each with a complete backup set";
        if (max_age)
            status += " younger than " + format_age(max_age->count());
    } else {
        std::string problems;
        for (const DomainSummary& d : domains)
            if (d.verdict == verdict)
                problems +=
                    (problems.empty() ? "" : "; ") + util::printable(d.domain, true) + ": " + d.reason;
        status += problems;
    }
    std::vector<std::vector<std::string>> table{{"DOMAIN", "NEWEST", "AGE", "SETS", "SIZE", "STATUS"}};
    for (const DomainSummary& d : domains)
        table.push_back(
            {util::printable(d.domain, true), d.newest.empty() ? "-" : d.newest,
             d.age ? format_age(*d.age) : "-", std::to_string(d.complete_sets),
             util::format_size(d.allocated),
             d.verdict == Verdict::ok
                 ? "ok"
                 : std::string(d.verdict == Verdict::warning ? "warning: " : "critical: ") + d.reason});
    return status + '\n' + render_columns(table);
}

std::string render_summary_json(const std::vector<DomainSummary>& domains,
                                std::optional<std::chrono::seconds> max_age) {
    nlohmann::json out = nlohmann::json::object();
    out["status"] = verdict_json(overall_verdict(domains));
    out["max_age_seconds"] = max_age ? nlohmann::json(max_age->count()) : nlohmann::json();
    nlohmann::json list = nlohmann::json::array();
    for (const DomainSummary& d : domains) {
        nlohmann::json domain = nlohmann::json::object();
        put_name(domain, "domain", d.domain);
        domain["newest_set"] = d.newest.empty() ? nlohmann::json() : nlohmann::json(d.newest);
        domain["age_seconds"] = d.age ? nlohmann::json(*d.age) : nlohmann::json();
        domain["complete_sets"] = d.complete_sets;
        domain["allocated_bytes"] = d.allocated;
        domain["status"] = verdict_json(d.verdict);
        domain["reason"] = d.reason.empty() ? nlohmann::json() : nlohmann::json(d.reason);
        list.push_back(std::move(domain));
    }
    out["domains"] = std::move(list);
    return out.dump(2) + '\n';
}

} // namespace virtsnap::job
