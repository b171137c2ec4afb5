#include "image/backed_image.hpp"

#include "image/qemu_option.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"
#include "util/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::image {

using util::quoted;

void create_backed_image(const std::string& path, const std::string& backing,
                         const std::string& backing_format) {
    util::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) {
        if (errno == EEXIST)
            throw util::RefusedError(quoted(path) + " already exists; nothing was restored");
        throw util::SystemError("cannot create " + quoted(path), errno);
    }
    try {
        // The umask may leave less than 0600; nothing may leave more.
        if (::fchmod(fd.get(), 0600) != 0)
            throw util::SystemError("cannot make " + quoted(path) + " private", errno);
        // /proc/PID/fd/N leads to the file this descriptor holds, whatever
        // its name leads to by now; qemu-img (a child) reaches it there.
        const std::string through_fd =
            "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd.get());
        util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", "-o",
                           "backing_file=" + escape_commas(backing) + ",backing_fmt=" + backing_format,
                           through_fd});
    } catch (...) {
        ::unlink(path.c_str());
        throw;
    }
}

} // namespace virtsnap::image
