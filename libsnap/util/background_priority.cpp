#include "util/background_priority.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace virtsnap::util {

namespace {

// linux/ioprio.h, which glibc does not wrap.
constexpr int ioprio_who_process = 1;
constexpr int ioprio_class_best_effort = 2;
constexpr int ioprio_class_shift = 13;
constexpr int ioprio_lowest_level = 7;

} // namespace

void lower_thread_priority() noexcept {
    const auto thread = static_cast<id_t>(::syscall(SYS_gettid));
    // On Linux, nice and the I/O priority belong to the thread, not the process.
    (void)::setpriority(PRIO_PROCESS, thread, 19);
    (void)::syscall(SYS_ioprio_set, ioprio_who_process, static_cast<int>(thread),
                    (ioprio_class_best_effort << ioprio_class_shift) | ioprio_lowest_level);
}

} // namespace virtsnap::util
