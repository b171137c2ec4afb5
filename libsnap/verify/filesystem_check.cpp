#include "verify/filesystem_check.hpp"

#include "util/error.hpp"

#include <guestfs.h>

#include <cstdlib>
#include <memory>

namespace virtsnap::verify {

namespace {

struct GuestfsDeleter {
    void operator()(guestfs_h* g) const noexcept { guestfs_close(g); }
};
using GuestfsPtr = std::unique_ptr<guestfs_h, GuestfsDeleter>;

[[noreturn]] void fail(guestfs_h* g, const std::string& action) {
    const char* message = guestfs_last_error(g);
    throw util::GuestfsError("libguestfs cannot " + action + ": " + (message ? message : "unknown error"));
}

// Takes ownership of a NULL-terminated list libguestfs allocated.
std::vector<std::string> take_list(guestfs_h* g, char** list, const std::string& action) {
    if (!list)
        fail(g, action);
    std::vector<std::string> items;
    for (char** item = list; *item; ++item) {
        items.emplace_back(*item);
        std::free(*item);
    }
    std::free(list);
    return items;
}

// The drives are read-only: libguestfs puts a throwaway overlay under
// them, so a checker that repairs (fsck -a) changes the overlay, never the
// backup. Its exit status says whether it found errors.
CheckOutcome check_one(guestfs_h* g, const std::string& device, const std::string& type) {
    if (type == "unknown")
        return {true, "no filesystem (unformatted, or not one libguestfs knows)"};
    if (type == "swap")
        return {true, "swap space, nothing to check"};
    if (type == "xfs") {
        int status = guestfs_xfs_repair(g, device.c_str(), GUESTFS_XFS_REPAIR_NOMODIFY, 1, -1);
        if (status == -1)
            fail(g, "run xfs_repair -n on " + device);
        return status == 0 ? CheckOutcome{true, "xfs: clean"}
                           : CheckOutcome{false, "xfs: damaged (xfs_repair -n found errors)"};
    }
    if (type != "ext2" && type != "ext3" && type != "ext4" && type != "vfat")
        return {true, type + ": not checked (no checker that reports errors for it)"};
    if (type != "vfat" && guestfs_tune2fs(g, device.c_str(), GUESTFS_TUNE2FS_MAXMOUNTCOUNT, 1,
                                          GUESTFS_TUNE2FS_MOUNTCOUNT, 2, -1) == -1)
        fail(g, "prepare the check of " + device);
    // fsck -a skips an ext filesystem marked clean, and libguestfs's e2fsck
    // counts "errors corrected" as success; a mount count past the maximum
    // (set above, in the overlay only) makes fsck -a check it fully and
    // report what it found in its exit status.
    int status = guestfs_fsck(g, type.c_str(), device.c_str());
    if (status == -1)
        fail(g, "run fsck on " + device);
    if (status == 0)
        return {true, type + ": clean"};
    return {false, type + ": damaged (fsck found errors, status " + std::to_string(status) +
                       "; the backup itself was not changed)"};
}

} // namespace

std::vector<FilesystemVerdict> check_filesystems(const std::vector<DiskImage>& disks) {
    GuestfsPtr g(guestfs_create());
    if (!g)
        throw util::GuestfsError("libguestfs cannot create a handle");
    guestfs_set_error_handler(g.get(), nullptr, nullptr);
    for (const DiskImage& disk : disks)
        if (guestfs_add_drive_opts(g.get(), disk.path.c_str(), GUESTFS_ADD_DRIVE_OPTS_READONLY, 1,
                                   GUESTFS_ADD_DRIVE_OPTS_FORMAT, disk.format.c_str(), -1) == -1)
            fail(g.get(), "add " + util::quoted(disk.path));
    if (guestfs_launch(g.get()) == -1)
        fail(g.get(), "launch its appliance");
    std::vector<std::string> devices = take_list(g.get(), guestfs_list_devices(g.get()), "list devices");
    std::vector<std::string> found =
        take_list(g.get(), guestfs_list_filesystems(g.get()), "list filesystems");

    std::vector<FilesystemVerdict> verdicts;
    for (size_t i = 0; i + 1 < found.size(); i += 2) {
        FilesystemVerdict verdict;
        verdict.device = found[i];
        verdict.type = found[i + 1];
        // Devices come in the order the drives were added; a partition
        // belongs to the device its name starts with.
        verdict.disk = disks.size();
        for (size_t d = 0; d < devices.size() && d < disks.size(); ++d)
            if (verdict.device.compare(0, devices[d].size(), devices[d]) == 0)
                verdict.disk = d;
        verdict.outcome = check_one(g.get(), verdict.device, verdict.type);
        verdicts.push_back(std::move(verdict));
    }
    if (guestfs_shutdown(g.get()) == -1)
        fail(g.get(), "shut its appliance down");
    return verdicts;
}

} // namespace virtsnap::verify
