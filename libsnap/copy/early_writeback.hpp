#pragma once
// Starts the kernel's writeback of what a writer has written so far, every
// few dozen MiB, without waiting for it. Left alone, a copy's dirty pages
// stay in memory until the final fsync (the background threshold is a
// share of RAM), so all writing happens after all reading; started early,
// writing to the destination overlaps reading the source.

#include <cstdint>

namespace virtsnap::copy {

class EarlyWriteback {
  public:
    explicit EarlyWriteback(int fd) : fd_(fd) {}
    // Data now ends at end (bytes written up to there, in increasing order).
    void wrote_up_to(std::uint64_t end);

  private:
    int fd_;
    std::uint64_t started_ = 0; // writeback requested below this offset
};

} // namespace virtsnap::copy
