// The mount table as the kernel writes it: fields split around the
// optional ones, escapes undone, the last mount on a point found.

#include "util/mount_info.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;

TEST_CASE("mountinfo lines give the mount point, type and source, unescaped") {
    const std::string text =
        "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
        "40 22 0:35 / /mnt/with\\040space rw,nosuid,nodev,relatime shared:20 master:3 - fuse.virtsnap-mount "
        "virtsnap-mount:1234 rw,user_id=0,group_id=0\n"
        "41 22 0:36 / /mnt/plain rw - fuse virtsnap-mount:99 rw\n"
        "garbage\n";
    const std::vector<util::MountEntry> entries = util::parse_mount_info(text);
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].mount_point == "/");
    CHECK(entries[0].fstype == "ext4");
    CHECK(entries[0].source == "/dev/vda1");
    CHECK(entries[1].mount_point == "/mnt/with space");
    CHECK(entries[1].fstype == "fuse.virtsnap-mount");
    CHECK(entries[1].source == "virtsnap-mount:1234");
    CHECK(entries[2].fstype == "fuse");
}

TEST_CASE("the root of this process's mounts is found, a plain directory is not a mount") {
    CHECK(util::find_mount("/").has_value());
    CHECK(util::find_mount("/proc").has_value());
    CHECK_FALSE(util::find_mount("/no/such/mount/point").has_value());
}
