#include "virt/overlay_files.hpp"

#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <sys/stat.h>

#include <cerrno>

namespace virtsnap::virt {

using util::quoted;

namespace {

void create_one(const xml::ManifestDisk& disk) {
    struct stat st {};
    if (::lstat(disk.overlay.c_str(), &st) == 0)
        throw util::RefusedError("overlay " + quoted(disk.overlay) + " of disk " + quoted(disk.target) +
                                 " already exists; virtsnap never overwrites a file");
    // The size is given, so qemu-img need not read the frozen image, which
    // the running QEMU holds locked; its warning about that is expected.
    util::ProcessResult made =
        util::run_process({"qemu-img", "create", "-q", "-f", "qcow2", "-F", disk.format, "-b", disk.frozen,
                           disk.overlay, std::to_string(disk.virtual_size)});
    if (!made.succeeded() || ::lstat(disk.overlay.c_str(), &st) != 0)
        throw util::Error("cannot create overlay " + quoted(disk.overlay) + " of disk " +
                          quoted(disk.target) + ": qemu-img " + made.describe_failure());
    if (::chmod(disk.overlay.c_str(), 0600) != 0)
        throw util::SystemError("cannot make overlay " + quoted(disk.overlay) + " private", errno);
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
