// Owner, group and mode of a set's files recorded and put back, never
// through a link.

#include "store/file_owner.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

struct stat stat_of(const fs::path& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st;
}

} // namespace

TEST_CASE("a file's owner and mode are recorded and put back") {
    test::TempDir dir;
    const fs::path file = dir / "vda.qcow2";
    test::write_file(file, "data");
    REQUIRE(::chmod(file.c_str(), 0600) == 0);
    const store::FileOwner owner = store::file_owner(file.string());
    CHECK(owner.path == file.string());
    CHECK(owner.uid == ::geteuid());
    CHECK(owner.mode == 0600);
    CHECK_FALSE(store::restore_owner(owner));

    // What libvirt's DAC driver does at a domain's start, as far as a test
    // may: another mode (and, as root, another owner).
    REQUIRE(::chmod(file.c_str(), 0664) == 0);
    const bool root = ::geteuid() == 0;
    if (root)
        REQUIRE(::chown(file.c_str(), 64055, 107) == 0);
    CHECK(store::restore_owners({owner}) == std::vector<std::string>{file.string()});
    const struct stat after = stat_of(file);
    CHECK((after.st_mode & 07777) == 0600);
    CHECK(after.st_uid == owner.uid);
    CHECK(after.st_gid == owner.gid);
    CHECK(test::read_file(file) == "data");
}

TEST_CASE("a link in a recorded file's place is refused, a missing file skipped") {
    test::TempDir dir;
    const fs::path target = dir / "secret";
    test::write_file(target, "x");
    REQUIRE(::chmod(target.c_str(), 0600) == 0);
    const fs::path file = dir / "vda.qcow2";
    test::write_file(file, "data");
    const store::FileOwner owner{file.string(), ::geteuid(), ::getegid(), 0644};
    fs::remove(file);
    fs::create_symlink(target, file);
    CHECK_THROWS_AS(store::restore_owner(owner), util::SystemError);
    CHECK_THROWS_AS(store::file_owner(file.string()), util::SystemError);
    CHECK((stat_of(target).st_mode & 07777) == 0600);
    fs::remove(file);
    CHECK(store::restore_owners({owner}).empty());
}

TEST_CASE("search permission on a directory is granted and taken away, never through a link") {
    test::TempDir dir;
    const fs::path set = dir / "set";
    fs::create_directory(set);
    REQUIRE(::chmod(set.c_str(), 0700) == 0);
    CHECK(store::grant_search(set.string()));
    CHECK((stat_of(set).st_mode & 07777) == 0701);
    CHECK_FALSE(store::grant_search(set.string()));
    store::revoke_search(set.string());
    CHECK((stat_of(set).st_mode & 07777) == 0700);
    fs::create_directory_symlink(set, dir / "link");
    CHECK_THROWS_AS(store::grant_search((dir / "link").string()), util::SystemError);
    CHECK((stat_of(set).st_mode & 07777) == 0700);
}
