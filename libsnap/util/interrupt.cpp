#include "util/interrupt.hpp"

#include "util/error.hpp"

#include <pthread.h>

#include <atomic>
#include <csignal>

namespace virtsnap::util {

namespace {

// Atomic rather than volatile: worker threads (a disk copied or verified
// beside another) read it too. Lock-free, so safe in a signal handler.
std::atomic<int> received{0};
static_assert(std::atomic<int>::is_always_lock_free);
constexpr int handled[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction previous[3];

extern "C" void note_signal(int signal) {
    received = signal;
}

// A child forked by a library (libnbd's qemu-nbd, libguestfs's appliance)
// would inherit the forking thread's mask, and a thread virtsnap started
// blocks the handled signals: its qemu-nbd would ignore SIGTERM. Only
// async-signal-safe calls here, between fork and exec.
extern "C" void unblock_in_child() {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
}

void unblock_signals_in_forked_children() {
    static const bool registered = [] {
        pthread_atfork(nullptr, nullptr, unblock_in_child);
        return true;
    }();
    (void)registered;
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
    // A signal noted for this guard's scope means nothing after it.
    received = 0;
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

HandledSignalsBlocked::HandledSignalsBlocked() : previous_() {
    unblock_signals_in_forked_children();
    sigset_t blocked;
    sigemptyset(&blocked);
    for (int signal : handled)
        sigaddset(&blocked, signal);
    pthread_sigmask(SIG_BLOCK, &blocked, &previous_);
}

HandledSignalsBlocked::~HandledSignalsBlocked() {
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

void throw_if_interrupted() {
    if (interrupted())
        throw Interrupted(std::string("interrupted by ") + signal_name(interrupt_signal()));
}

} // namespace virtsnap::util
