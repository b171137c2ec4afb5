#include "store/domain_lock.hpp"

#include "store/durable_file.hpp"
#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::store {

using util::quoted;

DomainLock DomainLock::acquire(const std::string& state_dir, const std::string& domain_uuid,
                               const std::string& domain_name) {
    ensure_private_directory(state_dir);
    std::string path = state_dir + "/" + domain_uuid + ".lock";
    util::UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd)
        throw util::SystemError("cannot open the lock file " + quoted(path), errno);
    // The holder's pid is written into it: never through another name of a
    // file (a hard link planted at the lock's name).
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
        throw util::RefusedError(
            "the lock file " + quoted(path) +
            " is not a plain file of its own (a hard link?); remove it if no virtsnap run holds it");
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
            throw util::SystemError("cannot lock " + quoted(path), errno);
        // The holder wrote its pid; a number is all that is shown of it.
        char text[24] = {};
        const ssize_t n = ::pread(fd.get(), text, sizeof text - 1, 0);
        std::string holder = n > 0 ? std::string(text, static_cast<size_t>(n)) : "";
        holder = holder.substr(0, holder.find_first_not_of("0123456789"));
        throw util::RefusedError("another virtsnap run" + (holder.empty() ? "" : " (pid " + holder + ")") +
                                 " is working on domain " + quoted(domain_name) + "; lock " + quoted(path));
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0)
        throw util::SystemError("cannot write the lock file " + quoted(path), errno);
    return DomainLock(std::move(fd), std::move(path));
}

} // namespace virtsnap::store
