#include "util/interrupt.hpp"

#include <doctest/doctest.h>

#include <pthread.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <thread>

using namespace virtsnap;

namespace {

sigset_t current_mask() {
    sigset_t mask;
    sigemptyset(&mask);
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    return mask;
}

} // namespace

TEST_CASE("threads virtsnap starts never take SIGINT, SIGTERM or SIGHUP") {
    sigset_t in_thread;
    sigemptyset(&in_thread);
    util::start_thread([&in_thread] { in_thread = current_mask(); }).join();
    CHECK(sigismember(&in_thread, SIGINT) == 1);
    CHECK(sigismember(&in_thread, SIGTERM) == 1);
    CHECK(sigismember(&in_thread, SIGHUP) == 1);
    // The thread that started it still takes them: the handlers run there.
    const sigset_t here = current_mask();
    CHECK(sigismember(&here, SIGINT) == 0);
    CHECK(sigismember(&here, SIGTERM) == 0);
    CHECK(sigismember(&here, SIGHUP) == 0);
}

TEST_CASE("blocking the handled signals for a while gives back the mask as it was") {
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
    {
        util::HandledSignalsBlocked blocked;
        const sigset_t inside = current_mask();
        CHECK(sigismember(&inside, SIGTERM) == 1);
        CHECK(sigismember(&inside, SIGUSR1) == 1);
    }
    const sigset_t after = current_mask();
    CHECK(sigismember(&after, SIGTERM) == 0);
    CHECK(sigismember(&after, SIGUSR1) == 1);
    pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
}

TEST_CASE("a SIGTERM a helper thread sends waits for the main thread to take it") {
    util::InterruptGuard guard;
    std::mutex mutex;
    std::condition_variable changed;
    bool go = false;
    // Started while this thread still takes SIGTERM: what keeps it from the
    // helper is start_thread alone.
    std::thread helper = util::start_thread([&] {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] { return go; });
        ::kill(::getpid(), SIGTERM);
    });
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigset_t open;
    pthread_sigmask(SIG_BLOCK, &term, &open);
    {
        std::lock_guard<std::mutex> lock(mutex);
        go = true;
    }
    changed.notify_all();
    helper.join();
    // Neither thread could take it: still pending, nothing noted yet.
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    CHECK(sigismember(&pending, SIGTERM) == 1);
    CHECK_FALSE(util::interrupted());
    // Taken here as soon as this thread lets it in.
    pthread_sigmask(SIG_SETMASK, &open, nullptr);
    CHECK(util::interrupt_signal() == SIGTERM);
}
