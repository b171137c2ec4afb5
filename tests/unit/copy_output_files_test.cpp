// OutputFiles keeps a copy's or a restore's files at NAME.partial until the
// caller publishes them, so an old backup that --force would replace stays
// whole until its successor is, and a failure leaves the directory as it
// was. What is at NAME.partial beforehand is a leftover to remove, never a
// file to write through.

#include "copy/output_files.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

void write_to(const util::UniqueFd& fd, const std::string& text) {
    REQUIRE(::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()));
}

// The process umask for one scope.
class Umask {
  public:
    explicit Umask(mode_t mask) : previous_(::umask(mask)) {}
    ~Umask() { ::umask(previous_); }
    Umask(const Umask&) = delete;
    Umask& operator=(const Umask&) = delete;

  private:
    mode_t previous_;
};

} // namespace

TEST_CASE("OutputFiles: a file is written as NAME.partial, mode 0600, whatever the umask") {
    test::TempDir dir;
    copy::OutputFiles outputs(dir.path().string());
    CHECK(outputs.dir() == dir.path().string());
    {
        Umask umask(0277); // would leave 0400
        util::UniqueFd fd = outputs.create("vda.qcow2");
        write_to(fd, "image");
    }
    CHECK(test::read_file(dir / "vda.qcow2.partial") == "image");
    CHECK(mode_of(dir / "vda.qcow2.partial") == 0600);
    CHECK_FALSE(fs::exists(dir / "vda.qcow2"));
    outputs.create_with("manifest.xml", "<manifest/>");
    CHECK(test::read_file(dir / "manifest.xml.partial") == "<manifest/>");
    CHECK(mode_of(dir / "manifest.xml.partial") == 0600);
    outputs.publish_all(false);
}

TEST_CASE("OutputFiles: publish renames into place, and published files outlive the object") {
    test::TempDir dir;
    {
        copy::OutputFiles outputs(dir.path().string());
        write_to(outputs.create("vda.qcow2"), "disk");
        outputs.create_with("manifest.xml", "m");
        outputs.publish({"vda.qcow2"}, false);
        CHECK(test::read_file(dir / "vda.qcow2") == "disk");
        CHECK_FALSE(fs::exists(dir / "vda.qcow2.partial"));
        CHECK(fs::exists(dir / "manifest.xml.partial"));
        outputs.publish_all(false);
        CHECK(test::read_file(dir / "manifest.xml") == "m");
        // Published once: there is nothing left to publish under that name.
        CHECK_THROWS_AS(outputs.publish({"vda.qcow2"}, false), util::Error);
    }
    CHECK(test::read_file(dir / "vda.qcow2") == "disk");
    CHECK(test::read_file(dir / "manifest.xml") == "m");
    CHECK(mode_of(dir / "vda.qcow2") == 0600);
}

TEST_CASE("OutputFiles: what is not published is removed on destruction, old files stay") {
    test::TempDir dir;
    test::write_file(dir / "vda.qcow2", "old backup");
    {
        copy::OutputFiles outputs(dir.path().string());
        write_to(outputs.create("vda.qcow2"), "new, unfinished");
        outputs.create_with("manifest.xml", "m");
        CHECK(fs::exists(dir / "vda.qcow2.partial"));
    } // as on a failure or a signal
    CHECK_FALSE(fs::exists(dir / "vda.qcow2.partial"));
    CHECK_FALSE(fs::exists(dir / "manifest.xml.partial"));
    CHECK_FALSE(fs::exists(dir / "manifest.xml"));
    CHECK(test::read_file(dir / "vda.qcow2") == "old backup");
}

TEST_CASE("OutputFiles: without replace an existing NAME is refused and left as it is") {
    test::TempDir dir;
    test::write_file(dir / "vdb.raw", "someone else's");
    {
        copy::OutputFiles outputs(dir.path().string());
        write_to(outputs.create("vda.qcow2"), "a");
        write_to(outputs.create("vdb.raw"), "b");
        CHECK_THROWS_WITH_AS(outputs.publish({"vda.qcow2", "vdb.raw"}, false),
                             doctest::Contains("vdb.raw' appeared meanwhile"), util::RefusedError);
        CHECK(test::read_file(dir / "vdb.raw") == "someone else's");
        CHECK(test::read_file(dir / "vda.qcow2") == "a"); // renamed before the refusal
    }
    CHECK(test::read_file(dir / "vdb.raw") == "someone else's");
    CHECK_FALSE(fs::exists(dir / "vdb.raw.partial"));
    CHECK(test::read_file(dir / "vda.qcow2") == "a");
}

TEST_CASE("OutputFiles: with replace an existing NAME is replaced") {
    test::TempDir dir;
    test::write_file(dir / "vda.qcow2", "old backup");
    fs::create_hard_link(dir / "vda.qcow2", dir / "elsewhere");
    copy::OutputFiles outputs(dir.path().string());
    write_to(outputs.create("vda.qcow2"), "new backup");
    outputs.publish({"vda.qcow2"}, true);
    CHECK(test::read_file(dir / "vda.qcow2") == "new backup");
    // Replaced by a rename: another name of the old file still reads it.
    CHECK(test::read_file(dir / "elsewhere") == "old backup");
}

TEST_CASE("OutputFiles: a symbolic link planted at NAME.partial is refused, its target untouched") {
    test::TempDir dir;
    test::write_file(dir / "victim", "precious");
    fs::create_symlink(dir / "victim", dir / "vda.qcow2.partial");
    copy::OutputFiles outputs(dir.path().string());
    CHECK_THROWS_WITH_AS(outputs.create("vda.qcow2"), doctest::Contains("symbolic link"), util::SystemError);
    CHECK_THROWS_AS(outputs.create_with("vda.qcow2", "x"), util::SystemError);
    CHECK(test::read_file(dir / "victim") == "precious");
    CHECK(fs::is_regular_file(fs::symlink_status(dir / "victim")));
}

TEST_CASE("OutputFiles: a leftover NAME.partial is replaced, a file hard-linked to it keeps its content") {
    test::TempDir dir;
    test::write_file(dir / "vda.qcow2.partial", "half of an old run");
    test::write_file(dir / "victim", "precious");
    ::chmod((dir / "victim").c_str(), 0644);
    fs::create_hard_link(dir / "victim", dir / "vdb.raw.partial");
    copy::OutputFiles outputs(dir.path().string());
    write_to(outputs.create("vda.qcow2"), "new");
    outputs.create_with("vdb.raw", "written");
    CHECK(test::read_file(dir / "vda.qcow2.partial") == "new");
    CHECK(test::read_file(dir / "vdb.raw.partial") == "written");
    CHECK(test::read_file(dir / "victim") == "precious");
    CHECK(mode_of(dir / "victim") == 0644);
    CHECK(fs::hard_link_count(dir / "victim") == 1);
    outputs.publish_all(false);
    CHECK(test::read_file(dir / "vdb.raw") == "written");
    CHECK(test::read_file(dir / "victim") == "precious");
}
