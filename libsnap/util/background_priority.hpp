#pragma once
// Work that runs beside something more urgent on the same host (the checks
// of an instant restore, beside a guest booting on the same cores) yields
// to it: the calling thread's CPU priority and I/O priority lowered.

namespace virtsnap::util {

// Lowers the calling thread's nice value to 19 and its I/O priority to the
// lowest of the best-effort class. Best effort itself: a kernel that
// refuses leaves the thread as it was.
void lower_thread_priority() noexcept;

} // namespace virtsnap::util
