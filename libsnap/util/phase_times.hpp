#pragma once
// Where a run's time goes, phase by phase (the agent probe, the freeze, each
// disk's copy and commit, ...), for the -v report and for bench/backup, which
// reads that report. Phases of disks handled side by side overlap, and the
// table shows them as they happened: each with its start and its length.
//
// One run at a time per process records phases (virtsnap-backup --all backs
// its domains up one after the other); any thread may record.

#include <chrono>
#include <string>
#include <vector>

namespace virtsnap::util {

struct Phase {
    std::string name;
    std::chrono::steady_clock::time_point start;
    std::chrono::steady_clock::duration length;
};

// Times one phase, from construction to stop() or destruction (a phase that
// ends in an error is recorded all the same).
class PhaseTimer {
  public:
    explicit PhaseTimer(std::string name);
    ~PhaseTimer();
    PhaseTimer(const PhaseTimer&) = delete;
    PhaseTimer& operator=(const PhaseTimer&) = delete;

    void stop();

  private:
    std::string name_;
    std::chrono::steady_clock::time_point start_;
    bool running_ = true;
};

// The phases recorded since the last call, in the order they started; the
// record is emptied.
std::vector<Phase> take_phases();

// The -v report of a run that started at run_start and lasted total: one line
// per phase ("phase NAME at START ms took LENGTH ms"), then one line with the
// run's total, the time some disk was being copied or verified (phases named
// "copy ..." and "verify ...", overlaps counted once), and the rest: the
// run's fixed cost.
std::vector<std::string> phase_report(const std::vector<Phase>& phases,
                                      std::chrono::steady_clock::time_point run_start,
                                      std::chrono::steady_clock::duration total);

} // namespace virtsnap::util
