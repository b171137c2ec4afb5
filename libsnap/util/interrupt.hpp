#pragma once
// SIGINT, SIGTERM and SIGHUP become a flag that long operations check between
// steps, so cleanup that must happen (committing overlays) still runs.

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

} // namespace virtsnap::util
