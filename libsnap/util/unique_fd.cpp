#include "util/unique_fd.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace virtsnap::util {

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0)
        ::close(fd_); // close() errors on a read/pipe fd carry no information
    fd_ = fd;
}

Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw SystemError("cannot create a pipe", errno);
    return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

} // namespace virtsnap::util
