#include "image/image_map.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"
#include "verify/image_compare.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

using namespace virtsnap;

TEST_CASE("image map: qemu-img's JSON for a chain") {
    const std::string json =
        R"([{ "start": 0, "length": 65536, "depth": 0, "present": true, "zero": true, "data": false},
{ "start": 65536, "length": 458752, "depth": 1, "present": true, "zero": false, "data": true, "offset": 393216},
{ "start": 524288, "length": 1000, "depth": 1, "present": false, "zero": true, "data": false}])";
    std::vector<image::Extent> map = image::parse_image_map(json, "map");
    REQUIRE(map.size() == 3);
    CHECK(map[0].zero);
    CHECK_FALSE(map[0].offset);
    CHECK(map[1].data);
    CHECK(map[1].depth == 1);
    CHECK(*map[1].offset == 393216);
    CHECK(map[2].end() == 525288);
}

TEST_CASE("image map: gaps, overlaps and garbage are input errors") {
    for (const char* bad :
         {"", "{}", "[{\"start\": 0}]",
          "[{\"start\": 1, \"length\": 1, \"depth\": 0, \"zero\": true, \"data\": false}]",
          "[{\"start\": 0, \"length\": 0, \"depth\": 0, \"zero\": true, \"data\": false}]"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(image::parse_image_map(bad, "map"), util::InputError);
    }
}

TEST_CASE("image map: a number that is not a whole byte count is an input error, not a cast") {
    // Found by tests/fuzz: 1e300 was converted from a double that does not
    // fit (undefined behaviour), -1 wrapped around.
    for (const char* bad :
         {"[{\"start\": 0, \"length\": 1e300, \"depth\": 0, \"zero\": true, \"data\": false}]",
          "[{\"start\": 0, \"length\": 4096.5, \"depth\": 0, \"zero\": true, \"data\": false}]",
          "[{\"start\": 0, \"length\": -1, \"depth\": 0, \"zero\": true, \"data\": false}]",
          "[{\"start\": 0, \"length\": 1, \"depth\": 4294967296, \"zero\": true, \"data\": false}]",
          "[{\"start\": 0, \"length\": 1, \"depth\": 0, \"zero\": false, \"data\": true, "
          "\"offset\": -65536}]"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(image::parse_image_map(bad, "map"), util::InputError);
    }
}

TEST_CASE("qemu-img compare: the first differing offset is read from its words") {
    CHECK(verify::mismatch_offset("Content mismatch at offset 4608!\n") == 4608);
    CHECK_FALSE(verify::mismatch_offset("Images are identical.\n"));
    CHECK_FALSE(verify::mismatch_offset("Content mismatch at offset 999999999999999999999999!"));
}

TEST_CASE("a sparse raw file maps as qemu-img maps it: data where written, zeros in the holes") {
    test::TempDir dir;
    const std::string path = (dir / "sparse.raw").string();
    const std::uint64_t size = 8ULL << 20;
    {
        util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
        REQUIRE(fd);
        REQUIRE(::ftruncate(fd.get(), static_cast<off_t>(size)) == 0);
        std::string data(1 << 20, 'x');
        REQUIRE(::pwrite(fd.get(), data.data(), data.size(), 1 << 20) == static_cast<ssize_t>(data.size()));
        REQUIRE(::pwrite(fd.get(), data.data(), 4096, static_cast<off_t>(size - 4096)) == 4096);
    }
    auto ours = image::map_sparse_file(path, size);
    auto qemus = image::query_image_map(path, "raw");
    REQUIRE(ours.size() == qemus.size());
    for (size_t i = 0; i < ours.size(); ++i) {
        CAPTURE(i);
        CHECK(ours[i].start == qemus[i].start);
        CHECK(ours[i].length == qemus[i].length);
        CHECK(ours[i].data == qemus[i].data);
        CHECK(ours[i].zero == qemus[i].zero);
        CHECK(ours[i].offset == qemus[i].offset);
    }
    CHECK(image::map_sparse_file(path, 0).empty());
    const std::string empty = (dir / "empty.raw").string();
    test::write_file(empty, "");
    REQUIRE(::truncate(empty.c_str(), 1 << 20) == 0);
    auto hole = image::map_sparse_file(empty, 1 << 20);
    REQUIRE(hole.size() == 1);
    CHECK(hole[0].zero);
    CHECK_FALSE(hole[0].data);
}
