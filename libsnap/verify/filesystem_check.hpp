#pragma once
// Filesystem checks of backup images through libguestfs: every filesystem on
// every disk is listed and checked (fsck for ext2/3/4 and vfat, xfs_repair
// -n for xfs). The drives are added read-only, so nothing can change the
// backup. LIBGUESTFS_BACKEND and
// LIBGUESTFS_BACKEND_SETTINGS (force_tcg) are honoured from the environment.

#include "verify/image_compare.hpp"

#include <string>
#include <vector>

namespace virtsnap::verify {

struct DiskImage {
    std::string label; // the disk target, for messages
    std::string path;
    std::string format;
};

struct FilesystemVerdict {
    size_t disk = 0;    // index into the disks given
    std::string device; // "/dev/sda1" as the appliance names it
    std::string type;   // "ext4", "unknown", ...
    CheckOutcome outcome;
};

// One appliance for all disks (a launch costs seconds). Throws GuestfsError.
std::vector<FilesystemVerdict> check_filesystems(const std::vector<DiskImage>& disks);

} // namespace virtsnap::verify
