#include "util/phase_times.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <optional>

namespace virtsnap::util {

namespace {

using Clock = std::chrono::steady_clock;

std::mutex phases_mutex;
std::vector<Phase>& recorded() {
    static std::vector<Phase> phases;
    return phases;
}

long long ms(Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

bool moves_data(const Phase& phase) {
    return phase.name.rfind("copy ", 0) == 0 || phase.name.rfind("verify ", 0) == 0;
}

} // namespace

PhaseTimer::PhaseTimer(std::string name) : name_(std::move(name)), start_(Clock::now()) {}

PhaseTimer::~PhaseTimer() {
    stop();
}

void PhaseTimer::stop() {
    if (!running_)
        return;
    running_ = false;
    const Clock::time_point end = Clock::now();
    try {
        std::lock_guard<std::mutex> lock(phases_mutex);
        recorded().push_back({name_, start_, end - start_});
    } catch (...) {
        // Timing is a report, never a reason to fail a run (or to throw from
        // a destructor).
    }
}

std::vector<Phase> take_phases() {
    std::vector<Phase> phases;
    {
        std::lock_guard<std::mutex> lock(phases_mutex);
        phases.swap(recorded());
    }
    std::stable_sort(phases.begin(), phases.end(),
                     [](const Phase& a, const Phase& b) { return a.start < b.start; });
    return phases;
}

std::vector<std::string> phase_report(const std::vector<Phase>& phases, Clock::time_point run_start,
                                      Clock::duration total) {
    std::vector<std::string> lines;
    std::vector<std::pair<Clock::time_point, Clock::time_point>> data;
    for (const Phase& phase : phases) {
        char line[64];
        std::snprintf(line, sizeof line, " at %6lld ms took %6lld ms", ms(phase.start - run_start),
                      ms(phase.length));
        lines.push_back("phase " + phase.name + line);
        if (moves_data(phase))
            data.emplace_back(phase.start, phase.start + phase.length);
    }
    // The time during which some disk was being copied or verified: the
    // union of those phases, which overlap when disks go side by side.
    std::sort(data.begin(), data.end());
    Clock::duration data_time = Clock::duration::zero();
    std::optional<std::pair<Clock::time_point, Clock::time_point>> span;
    for (const auto& interval : data) {
        if (span && interval.first <= span->second) {
            span->second = std::max(span->second, interval.second);
            continue;
        }
        if (span)
            data_time += span->second - span->first;
        span = interval;
    }
    if (span)
        data_time += span->second - span->first;
    lines.push_back("phases: total " + std::to_string(ms(total)) + " ms, copying and verifying " +
                    std::to_string(ms(data_time)) + " ms, fixed cost " +
                    std::to_string(ms(total - data_time)) + " ms");
    return lines;
}

} // namespace virtsnap::util
