#pragma once
// The guest's filesystems mounted read-only inside a libguestfs appliance,
// as the guest lays them out: shared by single-file restore and
// virtsnap-mount, so both see a backup's files at the same paths.

#include "verify/guestfs_session.hpp"

#include <string>
#include <utility>
#include <vector>

namespace virtsnap::verify {

// Mounts the filesystems of the first OS inspection finds, read-only, each
// on the mount point the guest gives it (shortest first, so / comes before
// /boot); false, with nothing mounted, when no OS is found.
bool mount_inspected(GuestfsSession& session);

// Without an OS: every filesystem that mounts (swap and unknown ones left
// out) read-only on a directory of its own under the appliance's root,
// named after its device ("/dev/sda1" on /sda1, "/dev/vg/root" on
// /vg-root). Returns the pairs (device, directory) mounted.
std::vector<std::pair<std::string, std::string>> mount_each_filesystem(GuestfsSession& session);

// The directory a filesystem of device gets: its path below /dev with
// every '/' made '-' ("sda1", "vg-root").
std::string filesystem_directory(const std::string& device);

} // namespace virtsnap::verify
