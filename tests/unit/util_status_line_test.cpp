#include "util/status_line.hpp"

#include <doctest/doctest.h>

using virtsnap::util::compose_status_line;

TEST_CASE("status line: the steps under way side by side when they fit") {
    CHECK(compose_status_line("virtsnap-copy", {"vda: 40%"}, 80) == "virtsnap-copy: vda: 40%");
    CHECK(compose_status_line("virtsnap-copy", {"vda: 40%", "vdb: 7%"}, 80) ==
          "virtsnap-copy: vda: 40% | vdb: 7%");
    CHECK(compose_status_line("virtsnap-copy", {}, 80) == "virtsnap-copy:");
}

TEST_CASE("status line: never as wide as the terminal, so it cannot wrap") {
    const std::string one = "vda: 40%, 1.2 GiB of 3.0 GiB, 150 MiB/s, 0:12 left";
    CHECK(compose_status_line("virtsnap-copy", {one}, 40) == "virtsnap-copy: vda: 40%, 1.2 GiB of 3.0");
    CHECK(compose_status_line("virtsnap-copy", {one}, 40).size() == 39);
    CHECK(compose_status_line("virtsnap-copy", {one}, 1).empty());
    CHECK(compose_status_line("virtsnap-copy", {one}, 0).empty());
}

TEST_CASE("status line: steps share a narrow line equally, each keeping its label and percentage") {
    const std::string vda = "vda: 40%, 1.2 GiB of 3.0 GiB, 150 MiB/s, 0:12 left";
    const std::string vdb = "vdb: 7%, 70 MiB of 1.0 GiB, 140 MiB/s, 0:07 left";
    const std::string line = compose_status_line("virtsnap-backup", {vda, vdb}, 60);
    // 59 bytes: "virtsnap-backup: " (17) and " | " (3) leave 19 for each.
    CHECK(line == "virtsnap-backup: vda: 40%, 1.2 GiB o | vdb: 7%, 70 MiB of ");
    CHECK(line.size() <= 59);
}

TEST_CASE("status line: a cut never splits a UTF-8 character") {
    // "é" is two bytes; a cut at 10 bytes would fall between them.
    const std::string line = compose_status_line("p", {"disk-ééééé"}, 12);
    CHECK(line == "p: disk-é");
    const std::string text = compose_status_line("p", {"ééééééééé"}, 9);
    CHECK(text == "p: éé");
}
