#include "image/qemu_img.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"
#include "virt/disk_inventory.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;

TEST_CASE("a qemu-img backing chain parses, image first") {
    const char* json = R"([
      {"virtual-size": 1073741824, "filename": "/i/top.qcow2", "cluster-size": 65536,
       "format": "qcow2", "actual-size": 200704, "backing-filename": "base.qcow2",
       "dirty-flag": false},
      {"virtual-size": 1073741824, "filename": "/i/base.qcow2", "format": "raw",
       "actual-size": 139264, "dirty-flag": true}
    ])";
    auto chain = image::parse_image_chain(json, "test");
    REQUIRE(chain.size() == 2);
    CHECK(chain[0].filename == "/i/top.qcow2");
    CHECK(chain[0].cluster_size == 65536);
    CHECK(chain[0].backing_filename == "base.qcow2");
    CHECK(chain[1].format == "raw");
    CHECK(chain[1].dirty);
    CHECK(chain[1].cluster_size == 0);
}

TEST_CASE("qemu-img output that is not a chain is an InputError") {
    CHECK_THROWS_AS(image::parse_image_chain("[", "t"), util::InputError);
    CHECK_THROWS_AS(image::parse_image_chain("[]", "t"), util::InputError);
    CHECK_THROWS_AS(image::parse_image_chain("42", "t"), util::InputError);
    CHECK_THROWS_AS(image::parse_image_chain(R"([{"filename": "x"}])", "t"), util::InputError);
    CHECK_THROWS_AS(image::parse_image_chain(R"([{"filename": 1, "format": "raw"}])", "t"), util::InputError);
    // Sizes are whole numbers: a double that does not fit was cast anyway
    // (undefined behaviour, found by tests/fuzz), a negative one wrapped.
    CHECK_THROWS_WITH_AS(
        image::parse_image_chain(R"({"filename": "x", "format": "raw", "virtual-size": 1e300})", "t"),
        doctest::Contains("virtual-size"), util::InputError);
    CHECK_THROWS_AS(
        image::parse_image_chain(R"({"filename": "x", "format": "raw", "actual-size": -4096})", "t"),
        util::InputError);
    CHECK_THROWS_AS(
        image::parse_image_chain(R"({"filename": "x", "format": "raw", "cluster-size": 0.5})", "t"),
        util::InputError);
}

TEST_CASE("a real chain on disk is read through qemu-img, spaces in paths included") {
    test::TempDir dir;
    const std::string base = (dir / "base image é.raw").string();
    const std::string top = (dir / "top image.qcow2").string();
    util::run_checked({"qemu-img", "create", "-q", "-f", "raw", base, "16M"});
    util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", base, top});

    auto chain = image::query_image_chain(top, "qcow2");
    REQUIRE(chain.size() == 2);
    CHECK(chain[0].filename == top);
    CHECK(chain[1].filename == base);
    CHECK(chain[1].format == "raw");

    xml::Disk disk;
    disk.target = "vda";
    disk.source = top;
    disk.format = "qcow2";
    virt::complete_chain(disk);
    CHECK(disk.chain_origin == xml::ChainOrigin::qemu_img);
    REQUIRE(disk.backing.size() == 1);
    CHECK(disk.backing[0].path == base);
    CHECK(disk.backing[0].type == xml::DiskType::file);
}

TEST_CASE("a raw image is never probed: a qcow2 header inside it is not followed") {
    test::TempDir dir;
    const std::string inner = (dir / "inner.qcow2").string();
    util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/hostname", "-F", "raw", inner});
    // As if a guest had written a qcow2 header pointing at a host file into its raw disk.
    auto chain = image::query_image_chain(inner, "raw");
    REQUIRE(chain.size() == 1);
    CHECK(chain[0].format == "raw");
}

TEST_CASE("a missing image is an error naming the path") {
    CHECK_THROWS_WITH_AS(image::query_image_chain("/nonexistent/virtsnap.qcow2", "qcow2"),
                         doctest::Contains("'/nonexistent/virtsnap.qcow2'"), util::Error);
}
