#include "job/backup_metrics.hpp"

#include "job/set_listing.hpp"
#include "job/set_summary.hpp"
#include "store/durable_file.hpp"
#include "store/set_layout.hpp"
#include "util/error.hpp"

#include <map>

namespace virtsnap::job {

namespace {

struct Metric {
    const char* name;
    const char* help;
};

constexpr Metric last_run{"virtsnap_backup_last_run_timestamp_seconds",
                          "When the domain's last virtsnap-backup run ended (Unix time)."};
constexpr Metric exit_status{"virtsnap_backup_last_run_exit_status",
                             "The exit status of the domain's last run: 0 success (see virtsnap-backup(1))."};
constexpr Metric duration{"virtsnap_backup_last_run_duration_seconds",
                          "How long the domain's last run took."};
constexpr Metric read_bytes{"virtsnap_backup_last_run_read_bytes",
                            "Disk content the last run read (holes left out); 0 when it failed."};
constexpr Metric written_bytes{"virtsnap_backup_last_run_written_bytes",
                               "What the last run's set occupies; 0 when it failed."};
constexpr Metric freeze{"virtsnap_backup_last_run_freeze_seconds",
                        "How long the last run kept the guest's filesystems frozen; 0 when it did not."};
constexpr Metric verified{"virtsnap_backup_last_run_verified",
                          "1 when the last run's set was verified while it was made."};
constexpr Metric info{"virtsnap_backup_last_run_info",
                      "The last successful run's kind: its set's type, consistency and verification."};
constexpr Metric last_success{"virtsnap_backup_last_success_timestamp_seconds",
                              "When the domain's newest complete set was taken (Unix time)."};
constexpr Metric sets{"virtsnap_backup_complete_sets", "How many complete backup sets the domain has."};
constexpr Metric sets_bytes{"virtsnap_backup_complete_sets_bytes", "What the domain's complete sets occupy."};

// Milliseconds as exact decimal seconds ("1.5", "0.042"): no binary
// fraction leaks into the file.
std::string seconds(std::chrono::milliseconds ms) {
    const long long count = ms.count() < 0 ? 0 : ms.count();
    std::string text = std::to_string(count / 1000);
    if (count % 1000 == 0)
        return text;
    std::string fraction = std::to_string(1000 + count % 1000).substr(1);
    while (fraction.back() == '0')
        fraction.pop_back();
    return text + "." + fraction;
}

class Samples {
  public:
    void add(const Metric& metric, const std::string& labels, const std::string& value) {
        auto found = by_name_.find(metric.name);
        if (found == by_name_.end()) {
            order_.push_back(&metric);
            found = by_name_.emplace(metric.name, std::string()).first;
        }
        found->second += std::string(metric.name) + "{" + labels + "} " + value + "\n";
    }

    std::string text() const {
        std::string out;
        for (const Metric* metric : order_)
            out += std::string("# HELP ") + metric->name + " " + metric->help + "\n# TYPE " + metric->name +
                   " gauge\n" + by_name_.at(metric->name);
        return out;
    }

  private:
    std::vector<const Metric*> order_;
    std::map<std::string, std::string> by_name_;
};

} // namespace

std::string metrics_label_value(const std::string& text) {
    std::string out;
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t length = util::utf8_sequence_length(text, at);
        if (length == 0) {
            out += "\xef\xbf\xbd";
            ++at;
            continue;
        }
        const char c = text[at];
        if (length == 1 && c == '\\')
            out += "\\\\";
        else if (length == 1 && c == '"')
            out += "\\\"";
        else if (length == 1 && c == '\n')
            out += "\\n";
        else
            out.append(text, at, length);
        at += length;
    }
    return out;
}

std::string render_metrics(const std::vector<DomainRun>& runs, const std::string& dest, std::time_t now) {
    Samples samples;
    for (const DomainRun& run : runs) {
        const std::string label = "domain=\"" + metrics_label_value(run.domain) + "\"";
        samples.add(last_run, label, std::to_string(static_cast<long long>(run.ended)));
        samples.add(exit_status, label, std::to_string(run.exit_status));
        samples.add(duration, label, seconds(run.duration));
        const SetSummary* set = run.set ? &*run.set : nullptr;
        samples.add(read_bytes, label, std::to_string(set ? set->bytes_read : 0));
        samples.add(written_bytes, label, std::to_string(set ? set->bytes_written : 0));
        samples.add(
            freeze, label,
            seconds(std::chrono::milliseconds(set && set->quiesced && !set->offline ? set->freeze_ms : 0)));
        samples.add(verified, label, set && set->verified ? "1" : "0");
        if (set) {
            const char* consistency = set->offline ? "offline" : set->quiesced ? "quiesced" : "crash";
            const char* verification = !set->verified                                      ? "none"
                                       : set->verification == Verification::qemu_checksums ? "qemu-checksums"
                                                                                           : "source";
            samples.add(info,
                        label + ",type=\"" + (set->level == Level::copy ? "full" : to_string(set->level)) +
                            "\",consistency=\"" + consistency + "\",verification=\"" + verification + "\"",
                        "1");
        }
        // What the destination holds, whatever this run did.
        std::vector<DomainSummary> held;
        try {
            held = summarize_sets(find_sets(dest, run.domain), now, std::nullopt);
        } catch (const util::InputError&) {
            // No directory of this domain's sets: nothing was ever backed up.
        }
        const DomainSummary* summary = held.empty() ? nullptr : &held.front();
        if (summary && !summary->newest.empty())
            if (std::optional<std::time_t> taken = store::set_id_time(summary->newest))
                samples.add(last_success, label, std::to_string(static_cast<long long>(*taken)));
        samples.add(sets, label, std::to_string(summary ? summary->complete_sets : 0));
        samples.add(sets_bytes, label, std::to_string(summary ? summary->allocated : 0));
    }
    return samples.text();
}

void write_metrics_file(const std::string& path, const std::vector<DomainRun>& runs,
                        const std::string& dest) {
    store::write_durable(path, render_metrics(runs, dest, std::time(nullptr)), 0644);
}

} // namespace virtsnap::job
