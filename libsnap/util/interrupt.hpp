#pragma once
// SIGINT, SIGTERM and SIGHUP become a flag that long operations check between
// steps, so cleanup that must happen (committing overlays) still runs.

#include <csignal>
#include <thread>
#include <utility>

namespace virtsnap::util {

class InterruptGuard {
  public:
    // Installs the handlers; the previous ones come back on destruction,
    // and the flag is cleared.
    InterruptGuard();
    ~InterruptGuard();
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
};

// The signal received since the guard was installed, or 0.
int interrupt_signal() noexcept;
bool interrupted() noexcept;

// Throws Interrupted ("interrupted by SIGTERM") when a signal has arrived;
// what long loops call between steps.
void throw_if_interrupted();

// "SIGTERM" for 15, and so on.
const char* signal_name(int signal) noexcept;

// While it lives, the calling thread does not take SIGINT, SIGTERM or SIGHUP
// (they stay pending for another thread); threads it starts inherit that,
// processes they fork do not (their mask is cleared between fork and exec).
class HandledSignalsBlocked {
  public:
    HandledSignalsBlocked();
    ~HandledSignalsBlocked();
    HandledSignalsBlocked(const HandledSignalsBlocked&) = delete;
    HandledSignalsBlocked& operator=(const HandledSignalsBlocked&) = delete;

  private:
    sigset_t previous_;
};

// Every thread virtsnap starts: it never takes SIGINT, SIGTERM or SIGHUP, so
// the handler always runs on the main thread, before it looks at the flag
// again. A signal taken by a helper thread (the libvirt event loop) set the
// flag a moment after the main thread had looked: virtsnap-create, stopped
// after its snapshot and sent SIGTERM, printed its manifest and exited 0.
template <typename Function> std::thread start_thread(Function&& function) {
    HandledSignalsBlocked blocked;
    return std::thread(std::forward<Function>(function));
}

} // namespace virtsnap::util
