// The image an instant restore boots from: created under a free name only,
// never through a link planted there, private, backed by the set's image
// with its format given.

#include "image/backed_image.hpp"
#include "image/qemu_img.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

using namespace virtsnap;

namespace {

std::string content(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

TEST_CASE("a backed image is a private qcow2 on its backing image, commas in the name included") {
    test::TempDir dir;
    const std::string base = (dir / "set, one.raw").string();
    const std::string top = (dir / "vda.qcow2").string();
    util::run_checked({"qemu-img", "create", "-q", "-f", "raw", base, "3M"});
    const mode_t old_umask = ::umask(0);
    image::create_backed_image(top, base, "raw");
    ::umask(old_umask);

    struct stat st {};
    REQUIRE(::lstat(top.c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 07777) == 0600);
    const std::vector<image::ImageInfo> chain = image::query_image_chain(top, "qcow2");
    REQUIRE(chain.size() == 2);
    CHECK(chain[0].virtual_size == 3 * 1024 * 1024);
    CHECK(chain[0].backing_filename == base);
    CHECK(chain[1].format == "raw");
}

TEST_CASE("a backed image is never made through what is at its name") {
    test::TempDir dir;
    const std::string base = (dir / "base.raw").string();
    util::run_checked({"qemu-img", "create", "-q", "-f", "raw", base, "1M"});
    const std::string victim = (dir / "victim").string();
    std::ofstream(victim) << "host file";
    const std::string top = (dir / "vda.qcow2").string();

    REQUIRE(::symlink(victim.c_str(), top.c_str()) == 0);
    CHECK_THROWS_AS(image::create_backed_image(top, base, "raw"), util::RefusedError);
    CHECK(content(victim) == "host file");
    struct stat st {};
    REQUIRE(::lstat(top.c_str(), &st) == 0);
    CHECK(S_ISLNK(st.st_mode)); // left as it was

    REQUIRE(::unlink(top.c_str()) == 0);
    std::ofstream(top) << "a file of someone's";
    CHECK_THROWS_AS(image::create_backed_image(top, base, "raw"), util::RefusedError);
    CHECK(content(top) == "a file of someone's");
}

TEST_CASE("a backed image qemu-img cannot make is removed") {
    test::TempDir dir;
    const std::string top = (dir / "vda.qcow2").string();
    CHECK_THROWS_AS(image::create_backed_image(top, (dir / "missing.raw").string(), "raw"), util::Error);
    struct stat st {};
    CHECK(::lstat(top.c_str(), &st) != 0);
}
