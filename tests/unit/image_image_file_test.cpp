// ImageFile is how the copy engine and restore hold the files they read,
// and prove_chain is what stops a manifest from naming some other readable
// file as a disk's backing image: each is judged on real files and on the
// substitutions a hostile manifest or set could make.

#include "image/image_file.hpp"
#include "image/qemu_img.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

using namespace virtsnap;
namespace fs = std::filesystem;
using image::ImageFile;
using image::ImageOrigin;

TEST_CASE("ImageFile: a regular file opens from a set and from the host, with its size and identity") {
    test::TempDir dir;
    const std::string path = (dir / "vda.qcow2").string();
    test::write_file(path, std::string(12345, 'x'));
    for (ImageOrigin origin : {ImageOrigin::backup_set, ImageOrigin::host}) {
        const ImageFile file = ImageFile::open(path, origin);
        CHECK(file.fd() >= 0);
        CHECK(file.path() == path);
        CHECK(file.size() == 12345);
        CHECK_FALSE(file.is_block_device());
        CHECK(image::identity_at(path) == file.identity());
        // Reads block again once the file is open: nothing is lost to O_NONBLOCK.
        char byte = 0;
        CHECK(::pread(file.fd(), &byte, 1, 12344) == 1);
        CHECK(byte == 'x');
    }
}

TEST_CASE("ImageFile: a symbolic link is refused in a set and followed on the host") {
    test::TempDir dir;
    test::write_file(dir / "target.raw", "data");
    fs::create_symlink(dir / "target.raw", dir / "vda.raw");
    const std::string link = (dir / "vda.raw").string();
    CHECK_THROWS_WITH_AS(ImageFile::open(link, ImageOrigin::backup_set), doctest::Contains("symbolic link"),
                         util::InputError);
    const ImageFile followed = ImageFile::open(link, ImageOrigin::host);
    CHECK(followed.identity() == image::identity_at((dir / "target.raw").string()));
}

TEST_CASE("ImageFile: a FIFO or a directory is refused at once, from a set or the host") {
    test::TempDir dir;
    const std::string fifo = (dir / "vda.qcow2").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    for (ImageOrigin origin : {ImageOrigin::backup_set, ImageOrigin::host}) {
        CHECK_THROWS_WITH_AS(ImageFile::open(fifo, origin), doctest::Contains("is not a regular file"),
                             util::InputError);
        CHECK_THROWS_AS(ImageFile::open(dir.path().string(), origin), util::InputError);
    }
    // Opening a FIFO with no writer must not wait for one.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("ImageFile: a missing file is a SystemError naming it") {
    test::TempDir dir;
    CHECK_THROWS_WITH_AS(ImageFile::open((dir / "gone.qcow2").string(), ImageOrigin::backup_set),
                         doctest::Contains("gone.qcow2"), util::SystemError);
}

TEST_CASE("file identity: hard links are one file, copies are not, block devices match by device number") {
    test::TempDir dir;
    test::write_file(dir / "a", "same");
    test::write_file(dir / "copy", "same");
    fs::create_hard_link(dir / "a", dir / "link");
    CHECK(image::identity_at((dir / "a").string()) == image::identity_at((dir / "link").string()));
    CHECK(image::identity_at((dir / "a").string()) != image::identity_at((dir / "copy").string()));
    CHECK_FALSE(image::identity_at((dir / "none").string()).has_value());

    // /dev/dm-0 and /dev/mapper/vg-lv: two inodes, one device.
    struct stat first {
    }, second{};
    first.st_mode = second.st_mode = S_IFBLK | 0600;
    first.st_dev = second.st_dev = 5;
    first.st_ino = 100;
    second.st_ino = 200;
    first.st_rdev = second.st_rdev = makedev(253, 0);
    CHECK(image::identity_of(first) == image::identity_of(second));
    second.st_rdev = makedev(253, 1);
    CHECK(image::identity_of(first) != image::identity_of(second));
    // A regular file with a block device's numbers is still not that device.
    struct stat regular = first;
    regular.st_mode = S_IFREG | 0600;
    CHECK(image::identity_of(first) != image::identity_of(regular));
}

namespace {

// base.raw <- mid.qcow2 <- top.qcow2, with relative backing names as
// virtsnap-copy --keep-chain writes them.
struct Chain {
    test::TempDir dir;
    std::string top = (dir / "top.qcow2").string();
    std::string mid = (dir / "mid.qcow2").string();
    std::string base = (dir / "base.raw").string();

    Chain() {
        util::run_checked({"qemu-img", "create", "-q", "-f", "raw", base, "1M"});
        util::run_checked(
            {"qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", mid, "1M"});
        util::run_checked(
            {"qemu-img", "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", top, "1M"});
    }

    std::vector<ImageFile> open(const std::vector<std::string>& paths) const {
        std::vector<ImageFile> files;
        for (const std::string& path : paths)
            files.push_back(ImageFile::open(path, ImageOrigin::backup_set));
        return files;
    }
};

} // namespace

TEST_CASE("prove_chain accepts the chain qemu-img resolves, hard links included") {
    Chain chain;
    const std::vector<image::ImageInfo> real = image::query_image_chain(chain.top, "qcow2");
    REQUIRE(real.size() == 3);
    image::prove_chain(chain.open({chain.top, chain.mid, chain.base}), {"qcow2", "qcow2", "raw"}, real,
                       "disk 'vda'");
    // Another name of the very same file is that file.
    fs::create_hard_link(chain.base, chain.dir / "base-link.raw");
    image::prove_chain(chain.open({chain.top, chain.mid, (chain.dir / "base-link.raw").string()}),
                       {"qcow2", "qcow2", "raw"}, real, "disk 'vda'");
}

TEST_CASE("prove_chain refuses another file of the same format recorded as a backing image") {
    Chain chain;
    const std::vector<image::ImageInfo> real = image::query_image_chain(chain.top, "qcow2");
    // Same content, same format, another file: e.g. a secret readable by root.
    fs::copy_file(chain.base, chain.dir / "other.raw");
    CHECK_THROWS_WITH_AS(
        image::prove_chain(chain.open({chain.top, chain.mid, (chain.dir / "other.raw").string()}),
                           {"qcow2", "qcow2", "raw"}, real, "disk 'vda'"),
        doctest::Contains(("disk 'vda': backing image 2 is '" + chain.base + "', not the recorded '" +
                           (chain.dir / "other.raw").string() + "'")
                              .c_str()),
        util::InputError);
    // The image itself swapped for another qcow2.
    util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", (chain.dir / "x.qcow2").string(), "1M"});
    CHECK_THROWS_WITH_AS(
        image::prove_chain(chain.open({(chain.dir / "x.qcow2").string(), chain.mid, chain.base}),
                           {"qcow2", "qcow2", "raw"}, real, "disk 'vda'"),
        doctest::Contains(("image is '" + chain.top + "'").c_str()), util::InputError);
}

TEST_CASE("prove_chain refuses a chain of another length") {
    Chain chain;
    const std::vector<image::ImageInfo> real = image::query_image_chain(chain.top, "qcow2");
    CHECK_THROWS_WITH_AS(
        image::prove_chain(chain.open({chain.top, chain.mid}), {"qcow2", "qcow2"}, real, "disk 'vda'"),
        doctest::Contains("has 3 image(s), not the 2 recorded"), util::InputError);
    CHECK_THROWS_AS(image::prove_chain(chain.open({chain.top, chain.mid, chain.base, chain.base}),
                                       {"qcow2", "qcow2", "raw", "raw"}, real, "disk 'vda'"),
                    util::InputError);
}

TEST_CASE("prove_chain refuses a recorded format that is not the one qemu-img read") {
    Chain chain;
    const std::vector<image::ImageInfo> real = image::query_image_chain(chain.top, "qcow2");
    CHECK_THROWS_WITH_AS(image::prove_chain(chain.open({chain.top, chain.mid, chain.base}),
                                            {"qcow2", "qcow2", "qcow2"}, real, "disk 'vda'"),
                         doctest::Contains("has format 'raw', not the recorded 'qcow2'"), util::InputError);
    CHECK_THROWS_WITH_AS(image::prove_chain(chain.open({chain.top, chain.mid, chain.base}),
                                            {"raw", "qcow2", "raw"}, real, "disk 'vda'"),
                         doctest::Contains(("image '" + chain.top + "' has format 'qcow2'").c_str()),
                         util::InputError);
}
