#include "store/instant_output.hpp"

#include "image/qcow2_header.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::store {

using util::quoted;

namespace {

std::string real(const std::string& path) {
    char buffer[PATH_MAX];
    return ::realpath(path.c_str(), buffer) ? std::string(buffer) : std::string();
}

bool inside(const std::string& path, const std::string& dir) {
    return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                           (dir == "/" || path[dir.size()] == '/'));
}

} // namespace

std::string resolved_future_path(const std::string& dir) {
    std::string head = dir.empty() ? "." : dir;
    std::string tail;
    while (true) {
        const std::string found = real(head);
        if (!found.empty())
            return tail.empty() ? found : (found == "/" ? "" : found) + "/" + tail;
        const std::size_t slash = head.find_last_of('/');
        const std::string last = slash == std::string::npos ? head : head.substr(slash + 1);
        if (last == "..")
            // Past a missing directory ".." cannot be resolved: refuse to guess.
            throw util::UsageError(quoted(dir) + " climbs out of a directory that does not exist");
        if (!last.empty() && last != ".")
            tail = tail.empty() ? last : last + "/" + tail;
        if (slash == std::string::npos)
            head = ".";
        else
            head = slash == 0 ? "/" : head.substr(0, slash);
    }
}

void refuse_output_on_set_storage(const std::string& output_dir, const std::vector<std::string>& set_dirs) {
    const std::string out = resolved_future_path(output_dir);
    for (const std::string& set : set_dirs) {
        const std::string real_set = real(set).empty() ? set : real(set);
        const std::size_t slash = real_set.rfind('/');
        const std::string domain_dir = slash == 0 ? "/" : real_set.substr(0, slash);
        if (inside(out, domain_dir))
            throw util::RefusedError("output directory " + quoted(output_dir) + " is inside " +
                                     quoted(domain_dir) + ", the backup's own storage (it holds set " +
                                     quoted(real_set) +
                                     "); choose a directory outside it; nothing was restored");
    }
}

void check_instant_image(const store::InstantRecord::Disk& disk) {
    util::UniqueFd fd(::open(disk.image.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        throw util::InputError("image " + quoted(disk.image) + " of disk " + disk.target +
                               " is not a regular file (or cannot be read); the record is kept");
    const image::Qcow2Header header = image::read_qcow2_header(fd.get(), quoted(disk.image));
    if (header.external_data_file ||
        (!header.backing_file.empty() &&
         (header.backing_file != disk.backing || header.backing_format != disk.backing_format)))
        throw util::InputError("image " + quoted(disk.image) + " of disk " + disk.target + " names " +
                               (header.external_data_file ? std::string("an external data file")
                                                          : "backing file " + quoted(header.backing_file)) +
                               ", not the set's image " + quoted(disk.backing) +
                               " it was created on; nothing was done, the record is kept");
}

} // namespace virtsnap::store
