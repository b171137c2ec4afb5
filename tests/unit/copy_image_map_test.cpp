#include "copy/image_map.hpp"
#include "util/error.hpp"
#include "verify/image_compare.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;

TEST_CASE("image map: qemu-img's JSON for a chain") {
    const std::string json =
        R"([{ "start": 0, "length": 65536, "depth": 0, "present": true, "zero": true, "data": false},
{ "start": 65536, "length": 458752, "depth": 1, "present": true, "zero": false, "data": true, "offset": 393216},
{ "start": 524288, "length": 1000, "depth": 1, "present": false, "zero": true, "data": false}])";
    std::vector<copy::Extent> map = copy::parse_image_map(json, "map");
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
        CHECK_THROWS_AS(copy::parse_image_map(bad, "map"), util::InputError);
    }
}

TEST_CASE("qemu-img compare: the first differing offset is read from its words") {
    CHECK(verify::mismatch_offset("Content mismatch at offset 4608!\n") == 4608);
    CHECK_FALSE(verify::mismatch_offset("Images are identical.\n"));
    CHECK_FALSE(verify::mismatch_offset("Content mismatch at offset 999999999999999999999999!"));
}
