#include "verify/verify_queue.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/phase_times.hpp"

namespace virtsnap::verify {

VerifyQueue::VerifyQueue(xml::Manifest& manifest, VerifySettings settings, const util::Log& log,
                         std::function<void(std::size_t)> verified)
    : manifest_(manifest), settings_(std::move(settings)), log_(log), verified_(std::move(verified)) {
    if (settings_.dir.empty())
        throw util::Error("internal error: the verify queue needs the backup directory");
    if (settings_.filesystems)
        throw util::Error("internal error: the verify queue does not check filesystems");
    worker_ = util::start_thread([this] { run(); });
}

VerifyQueue::~VerifyQueue() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        abandoned_ = true;
        closing_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable())
        worker_.join();
}

void VerifyQueue::push(std::size_t index) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queued_.push_back(index);
    }
    wake_.notify_all();
}

bool VerifyQueue::failed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return error_ || !found_.empty();
}

void VerifyQueue::finish() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closing_ = true;
    }
    wake_.notify_all();
    if (worker_.joinable())
        worker_.join();
    // The worker has ended: its results are read without the lock.
    if (error_)
        std::rethrow_exception(error_);
    throw_if_mismatched(found_);
}

void VerifyQueue::run() {
    for (;;) {
        std::size_t index = 0;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return closing_ || !queued_.empty(); });
            // After an error the remaining disks would only be reported
            // besides it; the backup has failed already.
            if (abandoned_ || error_ || queued_.empty())
                return;
            index = queued_.front();
            queued_.pop_front();
        }
        Mismatches found;
        std::exception_ptr error;
        try {
            util::PhaseTimer timer("verify " + manifest_.disks.at(index).target);
            verify_disk(manifest_, index, settings_, found, log_);
            if (found.empty() && verified_)
                verified_(index);
        } catch (...) {
            error = std::current_exception();
        }
        std::lock_guard<std::mutex> lock(mutex_);
        found_.insert(found_.end(), found.begin(), found.end());
        if (error && !error_)
            error_ = error;
    }
}

} // namespace virtsnap::verify
