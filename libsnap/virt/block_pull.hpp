#pragma once
// A disk's data pulled into its top image while the domain runs
// (virDomainBlockPull, no base: everything below comes up), the disks of a
// domain side by side. When a pull ends QEMU drops the backing chain from
// the disk, so the top image stands alone. The jobs belong to QEMU, not to
// this process: one that stops waiting (a signal) leaves them running, and
// the chain stays consistent whether a job ends or not.

#include "util/log.hpp"
#include "util/progress.hpp"
#include "virt/block_commit.hpp"
#include "virt/connection.hpp"

#include <string>
#include <vector>

namespace virtsnap::virt {

// True when a pull runs on target now; RefusedError when another kind of
// block job does.
bool pull_running(const Domain& domain, const std::string& target);

// Starts the pull of target at bandwidth_mib MiB/s (0: no limit).
void start_pull(const Domain& domain, const std::string& target, unsigned long bandwidth_mib);

// Waits until no pull runs on any of targets, reporting the sum of their
// progress; throws Error naming the disk when one failed or was cancelled,
// Interrupted on a signal (the jobs run on). Whether a finished job left
// the image standalone is the caller's check.
void wait_for_pulls(const Domain& domain, BlockJobEvents& events, const std::vector<std::string>& targets,
                    util::Progress& progress);

} // namespace virtsnap::virt
