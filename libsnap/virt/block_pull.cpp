#include "virt/block_pull.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "virt/libvirt_error.hpp"

#include <map>

namespace virtsnap::virt {

using util::quoted;

bool pull_running(const Domain& domain, const std::string& target) {
    const BlockJobState job = block_job_state(domain, target);
    if (job.exists && job.type != VIR_DOMAIN_BLOCK_JOB_TYPE_PULL)
        throw util::RefusedError("disk " + quoted(target) + " of domain " + quoted(domain.name()) +
                                 " is busy with another block job (type " + std::to_string(job.type) +
                                 "); wait for it or cancel it with 'virsh blockjob --abort'");
    return job.exists;
}

void start_pull(const Domain& domain, const std::string& target, unsigned long bandwidth_mib) {
    // The bandwidth of virDomainBlockPull is in MiB/s unless a flag says
    // bytes; that flag is newer than the platform floor.
    if (virDomainBlockPull(domain.get(), target.c_str(), bandwidth_mib, 0) < 0)
        throw_last_error("cannot start pulling the data of disk " + quoted(target) + " of domain " +
                         quoted(domain.name()) + " into its own image");
}

void wait_for_pulls(const Domain& domain, BlockJobEvents& events, const std::vector<std::string>& targets,
                    util::Progress& progress) {
    // The last cur/end seen of each disk, so a finished disk still counts
    // as whole in the sum.
    std::map<std::string, std::pair<unsigned long long, unsigned long long>> seen;
    std::vector<std::string> pending = targets;
    while (!pending.empty()) {
        util::throw_if_interrupted();
        const std::uint64_t generation = events.generation();
        std::vector<std::string> still;
        for (const std::string& target : pending) {
            const int status = events.take(target, std::chrono::milliseconds(0));
            if (status == VIR_DOMAIN_BLOCK_JOB_FAILED || status == VIR_DOMAIN_BLOCK_JOB_CANCELED)
                throw util::Error("pulling the data of disk " + quoted(target) + " of domain " +
                                  quoted(domain.name()) + " into its own image " +
                                  (status == VIR_DOMAIN_BLOCK_JOB_FAILED ? "failed" : "was cancelled") +
                                  "; the disk stays on its backing chain (a consistent one)");
            const BlockJobState job = block_job_state(domain, target);
            if (!job.exists) {
                auto& last = seen[target];
                last.first = last.second;
                continue;
            }
            seen[target] = {job.cur, job.end};
            still.push_back(target);
        }
        pending = still;
        unsigned long long cur = 0, end = 0;
        for (const auto& entry : seen) {
            cur += entry.second.first;
            end += entry.second.second;
        }
        progress.update(cur, end);
        if (!pending.empty())
            events.wait_after(generation, commit_poll_interval);
    }
}

bool flush_by_pause(const Domain& domain) {
    int state = 0, reason = 0;
    if (virDomainGetState(domain.get(), &state, &reason, 0) < 0)
        throw_last_error("cannot read the state of domain " + quoted(domain.name()));
    if (state != VIR_DOMAIN_RUNNING)
        return false;
    if (virDomainSuspend(domain.get()) < 0)
        throw_last_error("cannot pause domain " + quoted(domain.name()) + " to write its images back");
    if (virDomainResume(domain.get()) < 0)
        throw_last_error("domain " + quoted(domain.name()) +
                         " was paused to write its images back and does not resume; 'virsh resume " +
                         domain.name() + "' resumes it");
    return true;
}

} // namespace virtsnap::virt
