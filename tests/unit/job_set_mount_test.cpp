// virtsnap-mount -u unmounts only what virtsnap-mount mounted: a FUSE mount
// whose source names it and the process serving it.

#include "job/set_mount.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;

namespace {
const util::Log quiet("test", util::Verbosity::quiet);
}

TEST_CASE("a mount is virtsnap-mount's only by its FUSE type and its source with a process id") {
    CHECK(job::mount_owner("fuse.virtsnap-mount", "virtsnap-mount:1234") == 1234);
    CHECK(job::mount_owner("fuse", "virtsnap-mount:7") == 7);
    CHECK(job::mount_owner("ext4", "virtsnap-mount:7") == 0);          // not FUSE
    CHECK(job::mount_owner("fuse.sshfs", "host:/dir") == 0);           // another FUSE filesystem
    CHECK(job::mount_owner("fuse", "virtsnap-mount:") == 0);           // no process
    CHECK(job::mount_owner("fuse", "virtsnap-mount:12a") == 0);        // not a number
    CHECK(job::mount_owner("fuse", "virtsnap-mount:1234567890") == 0); // not a process id
    CHECK(job::mount_owner("fuse", "guestfs") == 0);                   // guestmount's
}

TEST_CASE("-u refuses a directory with nothing mounted, and a mount of anything else") {
    test::TempDir dir;
    CHECK_THROWS_WITH_AS(job::unmount_restore_point(dir.path().string(), quiet),
                         doctest::Contains("nothing is mounted on"), util::InputError);
    CHECK_THROWS_WITH_AS(job::unmount_restore_point("/proc", quiet),
                         doctest::Contains("is not a virtsnap-mount mount"), util::RefusedError);
    CHECK_THROWS_AS(job::unmount_restore_point((dir / "missing").string(), quiet), util::InputError);
}

TEST_CASE("a mount point must be a directory") {
    test::TempDir dir;
    test::write_file(dir / "file", "x");
    CHECK_THROWS_WITH_AS(job::unmount_restore_point((dir / "file").string(), quiet),
                         doctest::Contains("not a directory"), util::InputError);
}
