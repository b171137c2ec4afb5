#pragma once
// Owner of a file descriptor: closes it exactly once, moves but never copies.

#include <utility>

namespace virtsnap::util {

class UniqueFd {
  public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other)
            reset(std::exchange(other.fd_, -1));
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept { return std::exchange(fd_, -1); }
    // Closes the current descriptor (if any) and takes ownership of fd.
    void reset(int fd = -1) noexcept;

  private:
    int fd_ = -1;
};

// A pipe whose two ends are owned; both ends are close-on-exec.
struct Pipe {
    UniqueFd read_end;
    UniqueFd write_end;
};
Pipe make_pipe();

} // namespace virtsnap::util
