#pragma once
// One virtsnap run per domain at a time (virtsnap-backup(1)). The lock is
// an flock on STATE_DIR/UUID.lock: the kernel drops it when the holder dies,
// even by SIGKILL, so a crashed run never blocks the next one. The holder's
// pid is written into the file for the error message of the run it refuses.

#include "util/unique_fd.hpp"

#include <string>

namespace virtsnap::store {

class DomainLock {
  public:
    // Takes the lock or throws RefusedError naming the domain and the holder.
    static DomainLock acquire(const std::string& state_dir, const std::string& domain_uuid,
                              const std::string& domain_name);

    DomainLock(DomainLock&&) noexcept = default;
    DomainLock& operator=(DomainLock&&) noexcept = default;
    ~DomainLock() = default; // closing the descriptor releases the flock

    const std::string& path() const noexcept { return path_; }

  private:
    DomainLock(util::UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
    util::UniqueFd fd_;
    std::string path_;
};

} // namespace virtsnap::store
