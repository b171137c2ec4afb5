#include "copy/early_writeback.hpp"

#include <fcntl.h>

namespace virtsnap::copy {

namespace {

constexpr std::uint64_t step = 32ULL << 20;

} // namespace

void EarlyWriteback::wrote_up_to(std::uint64_t end) {
    if (end < started_ + step)
        return;
    // Only a hint: an error here would show again, and be reported, at fsync.
    ::sync_file_range(fd_, static_cast<off64_t>(started_), static_cast<off64_t>(end - started_),
                      SYNC_FILE_RANGE_WRITE);
    started_ = end;
}

} // namespace virtsnap::copy
