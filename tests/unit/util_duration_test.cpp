#include "util/duration.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;
using std::chrono::milliseconds;

TEST_CASE("durations: plain seconds and the units administrators write") {
    CHECK(util::parse_duration("10", "t") == milliseconds(10000));
    CHECK(util::parse_duration("10s", "t") == milliseconds(10000));
    CHECK(util::parse_duration("500ms", "t") == milliseconds(500));
    CHECK(util::parse_duration("2m", "t") == milliseconds(120000));
    CHECK(util::parse_duration("1h", "t") == milliseconds(3600000));
    CHECK(util::parse_duration("0", "t") == milliseconds(0));
}

TEST_CASE("durations: anything else is a usage error naming the option") {
    for (const char* bad : {"", "s", "-1", "1.5s", "10 s", "10d", "99999999999999999999999", "9999999h"}) {
        CAPTURE(bad);
        CHECK_THROWS_WITH_AS(util::parse_duration(bad, "freeze-timeout"),
                             doctest::Contains("--freeze-timeout"), util::UsageError);
    }
}

TEST_CASE("sizes: powers of 1024, overflow refused") {
    CHECK(util::parse_size("0", "s") == 0);
    CHECK(util::parse_size("512", "s") == 512);
    CHECK(util::parse_size("64K", "s") == 65536);
    CHECK(util::parse_size("100M", "s") == 100ULL << 20);
    CHECK(util::parse_size("2G", "s") == 2ULL << 30);
    CHECK(util::parse_size("1TiB", "s") == 1ULL << 40);
    CHECK_THROWS_AS(util::parse_size("20000000T", "s"), util::UsageError);
    CHECK_THROWS_AS(util::parse_size("1X", "s"), util::UsageError);
    CHECK_THROWS_AS(util::parse_size("-5", "s"), util::UsageError);
}

TEST_CASE("sizes are printed for people") {
    CHECK(util::format_size(1) == "1 byte");
    CHECK(util::format_size(1023) == "1023 bytes");
    CHECK(util::format_size(1536) == "1.5 KiB");
    CHECK(util::format_size(64ULL << 20) == "64 MiB");
    CHECK(util::format_size(3ULL << 40) == "3.0 TiB");
}
