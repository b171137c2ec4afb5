#include "util/interrupt.hpp"

#include "util/error.hpp"

#include <csignal>

namespace virtsnap::util {

namespace {

volatile std::sig_atomic_t received = 0;
constexpr int handled[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction previous[3];

extern "C" void note_signal(int signal) {
    received = signal;
}

} // namespace

InterruptGuard::InterruptGuard() {
    received = 0;
    struct sigaction action {};
    action.sa_handler = note_signal;
    sigemptyset(&action.sa_mask);
    // Interrupted system calls resume: the flag is checked between steps,
    // never in the middle of a write.
    action.sa_flags = SA_RESTART;
    for (int i = 0; i < 3; ++i)
        sigaction(handled[i], &action, &previous[i]);
}

InterruptGuard::~InterruptGuard() {
    for (int i = 0; i < 3; ++i)
        sigaction(handled[i], &previous[i], nullptr);
}

int interrupt_signal() noexcept {
    return received;
}

bool interrupted() noexcept {
    return received != 0;
}

const char* signal_name(int signal) noexcept {
    switch (signal) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    default:
        return "a signal";
    }
}

void throw_if_interrupted() {
    if (interrupted())
        throw Interrupted(std::string("interrupted by ") + signal_name(interrupt_signal()));
}

} // namespace virtsnap::util
