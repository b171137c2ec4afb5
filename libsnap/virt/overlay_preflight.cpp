#include "virt/overlay_preflight.hpp"

#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/path.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <map>

namespace virtsnap::virt {

using util::quoted;

namespace {

constexpr std::uint64_t minimum_growth = 64ULL << 20;

struct Filesystem {
    std::string example_dir;
    std::uint64_t available = 0;
    std::uint64_t virtual_total = 0;
};

} // namespace

void check_overlay_locations(const xml::Manifest& manifest, std::optional<std::uint64_t> overlay_space) {
    std::map<dev_t, Filesystem> filesystems;
    for (const xml::ManifestDisk& disk : manifest.disks) {
        const std::string dir = util::dirname_of(disk.overlay);
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            throw util::RefusedError("the overlay directory " + quoted(dir) + " of disk " +
                                     quoted(disk.target) + " does not exist");
        if (::access(dir.c_str(), W_OK) != 0)
            throw util::RefusedError("the overlay directory " + quoted(dir) + " of disk " +
                                     quoted(disk.target) +
                                     " is not writable (choose another with --overlay-dir)");
        struct stat existing {};
        if (::lstat(disk.overlay.c_str(), &existing) == 0)
            throw util::RefusedError("overlay " + quoted(disk.overlay) + " of disk " + quoted(disk.target) +
                                     " already exists; virtsnap never overwrites a file");
        struct statvfs fs {};
        if (::statvfs(dir.c_str(), &fs) != 0)
            throw util::SystemError("cannot read the free space of " + quoted(dir), errno);
        Filesystem& entry = filesystems[st.st_dev];
        entry.example_dir = dir;
        entry.available = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
        entry.virtual_total += disk.virtual_size;
    }
    for (const auto& item : filesystems) {
        const Filesystem& fs = item.second;
        std::uint64_t needed =
            overlay_space ? *overlay_space : std::max(minimum_growth, fs.virtual_total / 10);
        if (fs.available < needed)
            throw util::RefusedError("the overlay directory " + quoted(fs.example_dir) + " has " +
                                     util::format_size(fs.available) + " free, less than the " +
                                     util::format_size(needed) +
                                     " the overlays may grow to while the backup runs (free space, choose "
                                     "--overlay-dir, or state the figure with --overlay-space)");
    }
}

} // namespace virtsnap::virt
