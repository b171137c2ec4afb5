#include "image/file_output.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <unistd.h>

namespace virtsnap::image {

void write_fully(int fd, const std::string& path, const char* data, std::uint64_t length,
                 std::uint64_t offset) {
    while (length > 0) {
        ssize_t n = ::pwrite(fd, data, std::min(length, write_piece), static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw util::SystemError("cannot write " + util::quoted(path), errno);
        data += n;
        length -= static_cast<std::uint64_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
}

} // namespace virtsnap::image
