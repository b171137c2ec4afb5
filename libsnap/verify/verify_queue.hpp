#pragma once
// Verifies the disks of a backup on a thread of its own as their copies are
// done, so comparing one disk with its frozen image (page-cache work for the
// CPU) overlaps copying the next (work for the storage). virtsnap-backup
// feeds it from copy::CopySettings::copied.

#include "util/log.hpp"
#include "verify/backup_verification.hpp"
#include "xml/manifest.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace virtsnap::verify {

class VerifyQueue {
  public:
    // settings.dir must be set; the filesystem check is not offered (it
    // needs every disk at once). The manifest must outlive the queue, and
    // nothing but the queue may touch a pushed disk's verifications.
    // verified, when set, is called on the queue's thread with each disk
    // whose checks all passed.
    VerifyQueue(xml::Manifest& manifest, VerifySettings settings, const util::Log& log,
                std::function<void(std::size_t)> verified = {});
    // Abandons the disks not yet started and waits for the one in progress
    // (an interrupt stops its qemu-img).
    ~VerifyQueue();
    VerifyQueue(const VerifyQueue&) = delete;
    VerifyQueue& operator=(const VerifyQueue&) = delete;

    // Queues manifest.disks[index], whose backup is recorded. Safe from any
    // thread.
    void push(std::size_t index);
    // True once a check failed or could not run: what follows is wasted.
    bool failed() const;
    // Waits for every queued disk. Throws the first error a check raised,
    // else VerificationMismatch when a check failed.
    void finish();

  private:
    void run();

    xml::Manifest& manifest_;
    const VerifySettings settings_;
    const util::Log& log_;
    const std::function<void(std::size_t)> verified_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::size_t> queued_;
    bool closing_ = false;   // no more disks: finish, then end
    bool abandoned_ = false; // end after the disk in progress
    std::exception_ptr error_;
    Mismatches found_;
    std::thread worker_; // last: started once everything above exists
};

} // namespace virtsnap::verify
