#pragma once
// virtsnap-backup --metrics-file: the run's results as a Prometheus text
// file (the node_exporter textfile collector's format), one series per
// domain the run tried to back up, labelled domain="NAME". What the run did
// (its exit status, duration, bytes, freeze window, verification) comes
// from the run; what survives it (the last success, the complete sets and
// their size) from the sets under DEST, so a failed run still reports when
// the domain was last backed up. Metric names: virtsnap-backup(1).

#include "job/backup_domain.hpp"

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::job {

// One domain's part of a run.
struct DomainRun {
    std::string domain;
    int exit_status = 0;           // what the tool would exit with for this domain alone
    std::optional<SetSummary> set; // the set made, when the run succeeded
    std::chrono::milliseconds duration{0};
    std::time_t ended = 0;
};

// The file's text: every metric with its HELP and TYPE lines, samples in
// the order of runs. dest: where the domains' sets are (read only).
std::string render_metrics(const std::vector<DomainRun>& runs, const std::string& dest, std::time_t now);

// A label value in the text format: backslash, double quote and newline
// escaped, each byte that is not UTF-8 replaced by U+FFFD (the format is
// UTF-8).
std::string metrics_label_value(const std::string& text);

// Writes render_metrics(...) to path atomically (a reader sees the old file
// or the new one), mode 0644 so that a monitoring agent can read it.
void write_metrics_file(const std::string& path, const std::vector<DomainRun>& runs, const std::string& dest);

} // namespace virtsnap::job
