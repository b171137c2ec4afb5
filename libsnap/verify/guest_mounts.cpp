#include "verify/guest_mounts.hpp"

#include <algorithm>

namespace virtsnap::verify {

bool mount_inspected(GuestfsSession& session) {
    guestfs_h* g = session.get();
    std::vector<std::string> roots = session.take_list(guestfs_inspect_os(g), "inspect the disks");
    if (roots.empty())
        return false;
    std::vector<std::string> flat =
        session.take_list(guestfs_inspect_get_mountpoints(g, roots.front().c_str()), "read the mount points");
    std::vector<std::pair<std::string, std::string>> mounts;
    for (size_t i = 0; i + 1 < flat.size(); i += 2)
        mounts.emplace_back(flat[i], flat[i + 1]);
    std::sort(mounts.begin(), mounts.end(),
              [](const auto& a, const auto& b) { return a.first.size() < b.first.size(); });
    for (const auto& [point, device] : mounts)
        if (guestfs_mount_ro(g, device.c_str(), point.c_str()) == -1)
            session.fail("mount " + device + " on " + point);
    return true;
}

std::string filesystem_directory(const std::string& device) {
    std::string name = device.rfind("/dev/", 0) == 0 ? device.substr(5) : device;
    std::replace(name.begin(), name.end(), '/', '-');
    return name;
}

std::vector<std::pair<std::string, std::string>> mount_each_filesystem(GuestfsSession& session) {
    guestfs_h* g = session.get();
    std::vector<std::pair<std::string, std::string>> mounted;
    for (const auto& [device, type] : session.filesystems()) {
        if (type == "unknown" || type == "swap")
            continue;
        const std::string directory = "/" + filesystem_directory(device);
        // Nothing is mounted on /: the directory is made in the
        // appliance's own root (mkdir would need a root filesystem).
        if (guestfs_mkmountpoint(g, directory.c_str()) == -1)
            session.fail("make the directory " + directory);
        if (guestfs_mount_ro(g, device.c_str(), directory.c_str()) == -1) {
            // Not mountable (a bare partition table entry, an odd type):
            // left out, as the filesystem check leaves it out.
            (void)guestfs_rmmountpoint(g, directory.c_str());
            continue;
        }
        mounted.emplace_back(device, directory);
    }
    return mounted;
}

} // namespace virtsnap::verify
