#include "virt/overlay_files.hpp"

#include "image/qcow2_file_writer.hpp"
#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace virtsnap::virt {

using util::quoted;

namespace {

void create_one(const xml::ManifestDisk& disk) {
    // Written by virtsnap itself rather than by qemu-img create: an empty
    // qcow2 is a header and three tables, and starting qemu-img from a cold
    // page cache cost a backup up to 0.4 s per disk before the freeze.
    util::UniqueFd fd(
        ::open(disk.overlay.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) {
        if (errno == EEXIST)
            throw util::RefusedError("overlay " + quoted(disk.overlay) + " of disk " + quoted(disk.target) +
                                     " already exists; virtsnap never overwrites a file");
        throw util::SystemError(
            "cannot create overlay " + quoted(disk.overlay) + " of disk " + quoted(disk.target), errno);
    }
    try {
        image::Qcow2Layout layout;
        layout.virtual_size = disk.virtual_size;
        layout.backing = disk.frozen;
        layout.backing_format = disk.format;
        image::Qcow2FileWriter writer(std::move(fd), disk.overlay, layout);
        writer.finish();
    } catch (...) {
        ::unlink(disk.overlay.c_str());
        throw;
    }
}

} // namespace

void create_overlay_files(const xml::Manifest& manifest) {
    size_t made = 0;
    try {
        for (const xml::ManifestDisk& disk : manifest.disks) {
            create_one(disk);
            ++made;
        }
    } catch (...) {
        for (size_t i = 0; i < made; ++i)
            store::remove_durable(manifest.disks[i].overlay);
        throw;
    }
}

} // namespace virtsnap::virt
