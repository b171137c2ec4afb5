// Background work yields to the rest of the host: the thread's own nice
// value and I/O priority are lowered, and no other thread's.

#include "util/background_priority.hpp"

#include <doctest/doctest.h>

#include <cerrno>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>

using namespace virtsnap;

namespace {

struct Priorities {
    int nice = 0;
    long io = 0;
};

Priorities of_this_thread() {
    const auto thread = static_cast<id_t>(::syscall(SYS_gettid));
    errno = 0;
    Priorities p;
    p.nice = ::getpriority(PRIO_PROCESS, thread);
    p.io = ::syscall(SYS_ioprio_get, 1, static_cast<int>(thread));
    return p;
}

} // namespace

TEST_CASE("lower_thread_priority lowers the calling thread's CPU and I/O priority, no other's") {
    const Priorities before = of_this_thread();
    Priorities lowered;
    std::thread([&] {
        util::lower_thread_priority();
        lowered = of_this_thread();
    }).join();
    CHECK(lowered.nice == 19);
    CHECK(lowered.io == ((2 << 13) | 7)); // best effort, level 7
    const Priorities after = of_this_thread();
    CHECK(after.nice == before.nice);
    CHECK(after.io == before.io);
}
