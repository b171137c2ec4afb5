#pragma once
// The mounts the kernel lists in /proc/self/mountinfo, for telling a
// mount virtsnap made from any other before unmounting it.

#include <optional>
#include <string>
#include <vector>

namespace virtsnap::util {

struct MountEntry {
    std::string mount_point; // unescaped ("\040" back to a space)
    std::string fstype;      // "fuse", "fuse.NAME", "ext4", ...
    std::string source;      // the "fsname" a FUSE filesystem gave itself
};

// The entries of a mountinfo text; a line that does not parse is skipped.
std::vector<MountEntry> parse_mount_info(const std::string& text);

// The entry mounted last on mount_point (the one a path there reaches), if
// any, in /proc/self/mountinfo. mount_point must be absolute and canonical.
std::optional<MountEntry> find_mount(const std::string& mount_point);

} // namespace virtsnap::util
