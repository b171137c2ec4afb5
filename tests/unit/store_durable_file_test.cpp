#include "store/durable_file.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {
unsigned mode_of(const fs::path& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}
} // namespace

TEST_CASE("write_durable writes the whole text, mode 0600, and leaves no partial file") {
    test::TempDir dir;
    const std::string path = (dir / "state.xml").string();
    store::write_durable(path, "first");
    CHECK(test::read_file(path) == "first");
    CHECK(mode_of(path) == 0600);
    store::write_durable(path, "second, longer than the first");
    CHECK(test::read_file(path) == "second, longer than the first");
    CHECK_FALSE(fs::exists(path + ".partial"));
}

TEST_CASE("write_durable fails with the path named and keeps the old content") {
    test::TempDir dir;
    const std::string path = (dir / "no-such-dir" / "state.xml").string();
    CHECK_THROWS_WITH_AS(store::write_durable(path, "x"), doctest::Contains("no-such-dir/state.xml.partial"),
                         util::SystemError);
}

TEST_CASE("write_durable does not follow a symlink planted at the partial name") {
    test::TempDir dir;
    test::write_file(dir / "victim", "precious");
    fs::create_symlink(dir / "victim", dir / "state.xml.partial");
    CHECK_THROWS_AS(store::write_durable((dir / "state.xml").string(), "x"), util::SystemError);
    CHECK(test::read_file(dir / "victim") == "precious");
}

TEST_CASE("read_if_exists and remove_durable") {
    test::TempDir dir;
    const std::string path = (dir / "f").string();
    CHECK_FALSE(store::read_if_exists(path).has_value());
    store::write_durable(path, "content");
    CHECK(store::read_if_exists(path) == "content");
    store::remove_durable(path);
    CHECK_FALSE(fs::exists(path));
    store::remove_durable(path); // already gone: not an error
}

TEST_CASE("ensure_private_directory creates nested directories mode 0700") {
    test::TempDir dir;
    const fs::path nested = dir / "a" / "b";
    store::ensure_private_directory(nested.string());
    CHECK(fs::is_directory(nested));
    CHECK(mode_of(nested) == 0700);
    store::ensure_private_directory(nested.string()); // idempotent
    test::write_file(dir / "file", "");
    CHECK_THROWS_AS(store::ensure_private_directory((dir / "file").string()), util::SystemError);
}

TEST_CASE("write_durable does not write through a hard link planted at the partial name") {
    test::TempDir dir;
    test::write_file(dir / "victim", "precious");
    fs::create_hard_link(dir / "victim", dir / "state.xml.partial");
    store::write_durable((dir / "state.xml").string(), "the state");
    CHECK(test::read_file(dir / "state.xml") == "the state");
    CHECK(test::read_file(dir / "victim") == "precious");
    CHECK(fs::hard_link_count(dir / "victim") == 1);
    CHECK_FALSE(fs::exists(dir / "state.xml.partial"));
}

TEST_CASE("write_durable over another user's partial file leaves a file of its own, mode 0600") {
    const passwd* nobody = ::getpwnam("nobody");
    if (::geteuid() != 0 || !nobody) {
        MESSAGE("skipped: needs root and a user 'nobody' to plant a file of another user");
        return;
    }
    test::TempDir dir;
    const fs::path partial = dir / "state.xml.partial";
    test::write_file(partial, "planted");
    REQUIRE(::chown(partial.c_str(), nobody->pw_uid, nobody->pw_gid) == 0);
    REQUIRE(::chmod(partial.c_str(), 0666) == 0);
    store::write_durable((dir / "state.xml").string(), "the state");
    struct stat st {};
    REQUIRE(::stat((dir / "state.xml").c_str(), &st) == 0);
    CHECK(st.st_uid == ::geteuid());
    CHECK(st.st_gid == ::getegid());
    CHECK((st.st_mode & 07777) == 0600);
    CHECK(test::read_file(dir / "state.xml") == "the state");
}
