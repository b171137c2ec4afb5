#include "virt/block_commit.hpp"

#include "util/error.hpp"
#include "util/pause_point.hpp"
#include "virt/libvirt_error.hpp"

#include <libvirt/virterror.h>

#include <thread>

namespace virtsnap::virt {

using util::quoted;

namespace {

extern "C" void on_block_job(virConnectPtr, virDomainPtr, const char* disk, int, int status, void* opaque) {
    auto* shared = static_cast<std::shared_ptr<BlockJobEvents::Shared>*>(opaque);
    {
        std::lock_guard<std::mutex> lock((*shared)->mutex);
        (*shared)->status[disk ? disk : ""] = status;
        ++(*shared)->generation;
    }
    (*shared)->changed.notify_all();
}

extern "C" void free_shared(void* opaque) {
    delete static_cast<std::shared_ptr<BlockJobEvents::Shared>*>(opaque);
}

// The pivot; false when libvirt says the job is not ready yet.
bool try_pivot(const Domain& domain, const std::string& target) {
    if (virDomainBlockJobAbort(domain.get(), target.c_str(), VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT) == 0)
        return true;
    virErrorPtr error = virGetLastError();
    if (error && (error->code == VIR_ERR_BLOCK_COPY_ACTIVE || error->code == VIR_ERR_OPERATION_INVALID))
        return false;
    throw_last_error("the pivot of disk " + quoted(target) + " of domain " + quoted(domain.name()) +
                     " onto its backing image failed");
}

std::string left_on_overlay(const Domain& domain, const CommitRequest& request) {
    return "domain " + quoted(domain.name()) + " stays on overlay " + quoted(request.top) + " for disk " +
           quoted(request.target) + " (a consistent chain); 'virtsnap-commit --recover " + domain.name() +
           "' retries";
}

} // namespace

BlockJobState block_job_state(const Domain& domain, const std::string& target) {
    virDomainBlockJobInfo info{};
    int found = virDomainGetBlockJobInfo(domain.get(), target.c_str(), &info, 0);
    if (found < 0)
        throw_last_error("cannot read the block job of disk " + quoted(target) + " of domain " +
                         quoted(domain.name()));
    BlockJobState state;
    state.exists = found == 1;
    state.type = info.type;
    state.cur = info.cur;
    state.end = info.end;
    return state;
}

BlockJobEvents::BlockJobEvents(const Connection& conn, const Domain& domain)
    : conn_(conn.get()), shared_(std::make_shared<Shared>()) {
    if (!conn.has_events())
        return;
    auto* opaque = new std::shared_ptr<Shared>(shared_);
    callback_id_ =
        virConnectDomainEventRegisterAny(conn_, domain.get(), VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_block_job), opaque, free_shared);
    if (callback_id_ < 0)
        delete opaque; // polling alone then
}

BlockJobEvents::~BlockJobEvents() {
    if (callback_id_ >= 0)
        virConnectDomainEventDeregisterAny(conn_, callback_id_);
}

int BlockJobEvents::take(const std::string& target, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(shared_->mutex);
    shared_->changed.wait_for(lock, timeout, [&] { return shared_->status.count(target) == 1; });
    auto found = shared_->status.find(target);
    if (found == shared_->status.end())
        return -1;
    int status = found->second;
    shared_->status.erase(found);
    return status;
}

std::uint64_t BlockJobEvents::generation() const {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    return shared_->generation;
}

void BlockJobEvents::wait_after(std::uint64_t seen, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(shared_->mutex);
    shared_->changed.wait_for(lock, timeout, [&] { return shared_->generation != seen; });
}

ActiveCommit::ActiveCommit(const Domain& domain, BlockJobEvents& events, CommitRequest request,
                           util::Progress& progress)
    : domain_(domain), events_(events), request_(std::move(request)), progress_(progress),
      start_(std::chrono::steady_clock::now()) {
    BlockJobState job = block_job_state(domain_, request_.target);
    if (job.exists && job.type != VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT)
        throw util::RefusedError("disk " + quoted(request_.target) + " of domain " + quoted(domain_.name()) +
                                 " is busy with another block job (type " + std::to_string(job.type) +
                                 "); wait for it or cancel it with 'virsh blockjob --abort'");
    if (job.exists)
        return;
    events_.take(request_.target, std::chrono::milliseconds(0)); // forget stale news
    unsigned int flags = VIR_DOMAIN_BLOCK_COMMIT_ACTIVE | VIR_DOMAIN_BLOCK_COMMIT_SHALLOW;
    if (virDomainBlockCommit(domain_.get(), request_.target.c_str(), request_.base.c_str(),
                             request_.top.c_str(), request_.bandwidth_mib, flags) < 0)
        throw_last_error("cannot start the block commit of disk " + quoted(request_.target) + " of domain " +
                         quoted(domain_.name()) + " into " + quoted(request_.base));
    util::pause_point("commit-started");
}

bool ActiveCommit::poll() {
    int status = events_.take(request_.target, std::chrono::milliseconds(0));
    if (status == VIR_DOMAIN_BLOCK_JOB_FAILED || status == VIR_DOMAIN_BLOCK_JOB_CANCELED)
        throw util::Error("the block commit of disk " + quoted(request_.target) + " " +
                          (status == VIR_DOMAIN_BLOCK_JOB_FAILED ? "failed" : "was cancelled") + "; " +
                          left_on_overlay(domain_, request_));
    BlockJobState job = block_job_state(domain_, request_.target);
    if (!job.exists) {
        // Without the job, either a pivot happened (ours before a crash, or
        // someone's by hand) or the job ended without one; the caller checks
        // which from the domain's disks.
        return true;
    }
    progress_.update(job.cur, job.end);
    // READY from the event, or the polled fallback: everything copied.
    // libvirt refuses a pivot that is not ready yet, and then we wait on.
    bool ready = status == VIR_DOMAIN_BLOCK_JOB_READY || (job.end > 0 && job.cur == job.end);
    if (ready && try_pivot(domain_, request_.target)) {
        progress_.update(1, 1);
        return true;
    }
    if (request_.timeout.count() > 0 && std::chrono::steady_clock::now() - start_ > request_.timeout) {
        // Cancelling an active commit leaves the disk on the overlay, which
        // holds every write: nothing is lost.
        const std::string late = "the block commit of disk " + quoted(request_.target) +
                                 " did not converge within " +
                                 std::to_string(request_.timeout.count() / 1000) + " s";
        if (virDomainBlockJobAbort(domain_.get(), request_.target.c_str(), 0) < 0)
            throw util::Error(late + ", and cancelling it failed: " + last_error_message() +
                              "; the job may still be running: check with 'virsh blockjob " + domain_.name() +
                              " " + request_.target + "', then run 'virtsnap-commit --recover " +
                              domain_.name() + "'");
        throw util::Error(late + " and was cancelled; " + left_on_overlay(domain_, request_));
    }
    return false;
}

} // namespace virtsnap::virt
