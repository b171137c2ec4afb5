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

// When a pull ends, QEMU has written the image's new header (no backing
// file) but may hold its cluster tables in its cache: until they reach the
// storage, a host crash would leave an image without its data and without
// the backing file that held it. Stopping the VM makes QEMU write back and
// flush every block device; a domain that runs is paused and resumed at
// once for that (a pause as long as the flush: the caller syncs the files
// first so little is left). False when the domain was not running (not
// paused then: a paused domain stays paused, and its caches are written
// back when it resumes or stops).
bool flush_by_pause(const Domain& domain);

} // namespace virtsnap::virt
