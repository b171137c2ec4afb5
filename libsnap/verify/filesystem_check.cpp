#include "verify/filesystem_check.hpp"

#include "util/error.hpp"
#include "verify/guestfs_session.hpp"

namespace virtsnap::verify {

namespace {

// The drives are read-only: libguestfs puts a throwaway overlay under
// them, so a checker that repairs (fsck -a) changes the overlay, never the
// backup. Its exit status says whether it found errors.
CheckOutcome check_one(GuestfsSession& session, const std::string& device, const std::string& type) {
    guestfs_h* g = session.get();
    if (type == "unknown")
        return {true, "no filesystem (unformatted, or not one libguestfs knows)"};
    if (type == "swap")
        return {true, "swap space, nothing to check"};
    if (type == "xfs") {
        int status = guestfs_xfs_repair(g, device.c_str(), GUESTFS_XFS_REPAIR_NOMODIFY, 1, -1);
        if (status == -1)
            session.fail("run xfs_repair -n on " + device);
        return status == 0 ? CheckOutcome{true, "xfs: clean"}
                           : CheckOutcome{false, "xfs: damaged (xfs_repair -n found errors)"};
    }
    if (type != "ext2" && type != "ext3" && type != "ext4" && type != "vfat")
        return {true, type + ": not checked (no checker that reports errors for it)"};
    if (type != "vfat" && guestfs_tune2fs(g, device.c_str(), GUESTFS_TUNE2FS_MAXMOUNTCOUNT, 1,
                                          GUESTFS_TUNE2FS_MOUNTCOUNT, 2, -1) == -1)
        session.fail("prepare the check of " + device);
    // fsck -a skips an ext filesystem marked clean, and libguestfs's e2fsck
    // counts "errors corrected" as success; a mount count past the maximum
    // (set above, in the overlay only) makes fsck -a check it fully and
    // report what it found in its exit status.
    int status = guestfs_fsck(g, type.c_str(), device.c_str());
    if (status == -1)
        session.fail("run fsck on " + device);
    if (status == 0)
        return {true, type + ": clean"};
    return {false, type + ": damaged (fsck found errors, status " + std::to_string(status) +
                       "; the backup itself was not changed)"};
}

} // namespace

std::vector<FilesystemVerdict> check_filesystems(const std::vector<DiskImage>& disks) {
    GuestfsSession session;
    for (const DiskImage& disk : disks)
        session.add_read_only(disk.path, disk.format);
    session.launch();
    std::vector<std::string> devices = session.devices();
    std::vector<FilesystemVerdict> verdicts;
    for (const auto& [device, type] : session.filesystems()) {
        FilesystemVerdict verdict;
        verdict.device = device;
        verdict.type = type;
        // Devices come in the order the drives were added; a partition
        // belongs to the device its name starts with.
        verdict.disk = disks.size();
        for (size_t d = 0; d < devices.size() && d < disks.size(); ++d)
            if (verdict.device.compare(0, devices[d].size(), devices[d]) == 0)
                verdict.disk = d;
        verdict.outcome = check_one(session, verdict.device, verdict.type);
        verdicts.push_back(std::move(verdict));
    }
    session.shutdown();
    return verdicts;
}

} // namespace virtsnap::verify
