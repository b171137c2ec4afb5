#include "util/phase_times.hpp"

#include <doctest/doctest.h>

#include <thread>

using namespace virtsnap;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

util::Phase phase(const char* name, Clock::time_point base, int start_ms, int length_ms) {
    return {name, base + milliseconds(start_ms), milliseconds(length_ms)};
}

} // namespace

TEST_CASE("phase timers: recorded in the order they started, from any thread, once each") {
    util::take_phases();
    {
        util::PhaseTimer outer("outer");
        std::thread([] { util::PhaseTimer inner("inner"); }).join();
        outer.stop();
        outer.stop();
    }
    try {
        util::PhaseTimer failing("failing");
        throw 1;
    } catch (int) {}
    const std::vector<util::Phase> phases = util::take_phases();
    REQUIRE(phases.size() == 3);
    CHECK(phases[0].name == "outer");
    CHECK(phases[1].name == "inner");
    CHECK(phases[2].name == "failing");
    CHECK(phases[0].start <= phases[1].start);
    CHECK(phases[1].start + phases[1].length <= phases[0].start + phases[0].length);
    CHECK(util::take_phases().empty());
}

TEST_CASE("phase report: one line per phase, and the copying counted once where disks overlap") {
    const Clock::time_point base = Clock::now();
    const std::vector<util::Phase> phases{
        phase("freeze", base, 10, 30),          phase("copy vda", base, 100, 1000),
        phase("copy vdb", base, 150, 400),      phase("verify vdb", base, 550, 300),
        phase("verify vda", base, 1100, 200),   phase("commit vda", base, 1400, 80),
        phase("copy-like name", base, 1500, 50)};
    const std::vector<std::string> report = util::phase_report(phases, base, milliseconds(1600));
    REQUIRE(report.size() == phases.size() + 1);
    CHECK(report[0] == "phase freeze at     10 ms took     30 ms");
    CHECK(report[2] == "phase copy vdb at    150 ms took    400 ms");
    // vda's copy and verification and vdb's, 100..1300, overlap into one
    // span of 1200 ms; "copy-like name" is not a copy.
    CHECK(report.back() == "phases: total 1600 ms, copying and verifying 1200 ms, fixed cost 400 ms");
}

TEST_CASE("phase report: a run that copied nothing is all fixed cost") {
    const Clock::time_point base = Clock::now();
    const std::vector<std::string> report =
        util::phase_report({phase("commit vda", base, 0, 5)}, base, milliseconds(20));
    CHECK(report.back() == "phases: total 20 ms, copying and verifying 0 ms, fixed cost 20 ms");
}
