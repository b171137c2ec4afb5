#pragma once
// Watches a shut-off domain while its images are copied offline. Libvirt
// cannot keep anyone from starting it meanwhile; a start makes the copy a
// mix of two points in time, so it must be noticed. Lifecycle events catch
// a start even when the guest stops again before the next look; without
// events, the domain's state is polled at each check.

#include "virt/connection.hpp"

#include <atomic>
#include <memory>

namespace virtsnap::virt {

class StartWatch {
  public:
    // Call while the domain is shut off and its lock is held.
    StartWatch(const Connection& conn, const Domain& domain);
    ~StartWatch();
    StartWatch(const StartWatch&) = delete;
    StartWatch& operator=(const StartWatch&) = delete;

    // True once the domain has been started (or is running now).
    bool started() const;

  private:
    virConnectPtr conn_;
    const Domain& domain_;
    int callback_id_ = -1;
    std::shared_ptr<std::atomic<bool>> seen_;
};

} // namespace virtsnap::virt
