#include "job/restore_file.hpp"

#include "store/durable_file.hpp"
#include "store/set_images.hpp"
#include "store/set_layout.hpp"
#include "store/set_pin.hpp"
#include "util/error.hpp"
#include "util/path.hpp"
#include "util/unique_fd.hpp"
#include "verify/guest_mounts.hpp"
#include "verify/guestfs_session.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace virtsnap::job {

using util::quoted;

namespace {

// Without an OS: the one filesystem that holds the file, mounted on /.
void mount_holder(verify::GuestfsSession& session, const std::string& guest_path) {
    guestfs_h* g = session.get();
    std::vector<std::string> holders;
    for (const auto& [device, type] : session.filesystems()) {
        if (type == "unknown" || type == "swap")
            continue;
        if (guestfs_mount_ro(g, device.c_str(), "/") == -1)
            continue; // not mountable: it cannot hold the file
        if (guestfs_is_file(g, guest_path.c_str()) == 1)
            holders.push_back(device);
        if (guestfs_umount_all(g) == -1)
            session.fail("unmount " + device);
    }
    if (holders.empty())
        throw util::InputError("no filesystem of the backup holds a file " + quoted(guest_path));
    if (holders.size() > 1) {
        std::string list;
        for (const std::string& device : holders)
            list += (list.empty() ? "" : ", ") + device;
        throw util::InputError("several filesystems of the backup hold " + quoted(guest_path) + " (" + list +
                               "); choose the disk with --disk");
    }
    if (guestfs_mount_ro(g, holders.front().c_str(), "/") == -1)
        session.fail("mount " + holders.front());
}

} // namespace

void restore_file(const store::BackupSet& set, const std::vector<const xml::ManifestDisk*>& disks,
                  const std::string& guest_path, const std::string& host_path, bool force,
                  const util::Log& log) {
    if (::access(host_path.c_str(), F_OK) == 0 && !force)
        throw util::RefusedError(quoted(host_path) +
                                 " already exists; nothing was restored (--force replaces it)");
    const store::SetPin pinned = store::pin_chain(set.path, *set.manifest);
    store::refuse_set_as_output(util::dirname_of(host_path), set, store::check_set_images(set, disks));
    verify::GuestfsSession session;
    for (const xml::ManifestDisk* disk : disks)
        session.add_read_only(set.path + "/" + disk->backup->files.front().name, disk->backup->format);
    log.info("starting the libguestfs appliance");
    session.launch();
    if (!verify::mount_inspected(session))
        mount_holder(session, guest_path);
    if (guestfs_is_file(session.get(), guest_path.c_str()) != 1)
        throw util::InputError("the backup holds no regular file " + quoted(guest_path));

    const std::string partial = store::partial_name(host_path);
    util::UniqueFd fd = store::create_fresh_private_file(partial);
    try {
        // libguestfs writes to a path; this one is the file just created.
        const std::string through = "/dev/fd/" + std::to_string(fd.get());
        if (guestfs_download(session.get(), guest_path.c_str(), through.c_str()) == -1)
            session.fail("copy " + quoted(guest_path) + " out of the backup");
        if (::fsync(fd.get()) != 0)
            throw util::SystemError("cannot sync " + quoted(partial), errno);
        if (::rename(partial.c_str(), host_path.c_str()) != 0)
            throw util::SystemError("cannot rename " + quoted(partial) + " to " + quoted(host_path), errno);
    } catch (...) {
        ::unlink(partial.c_str());
        throw;
    }
    store::sync_directory(util::dirname_of(host_path));
    session.shutdown();
}

} // namespace virtsnap::job
