#include "util/error.hpp"
#include "xml/disk_selection.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;
using xml::Disk;
using xml::Eligibility;

namespace {

Disk disk(const std::string& target, Eligibility eligibility, const std::string& reason = "") {
    Disk d;
    d.target = target;
    d.eligibility = eligibility;
    d.reason = reason;
    return d;
}

std::vector<std::string> targets(const xml::DiskSelection& selection) {
    std::vector<std::string> names;
    for (const Disk& d : selection.chosen)
        names.push_back(d.target);
    return names;
}

const std::vector<Disk> mixed = {disk("vda", Eligibility::eligible), disk("vdb", Eligibility::eligible),
                                 disk("hdc", Eligibility::skipped, "cdrom device")};

} // namespace

TEST_CASE("selection: every eligible disk by default; skipped ones reported with their reason") {
    xml::DiskSelection s = xml::select_disks(mixed, {}, {}, "vm");
    CHECK(targets(s) == std::vector<std::string>{"vda", "vdb"});
    REQUIRE(s.notes.size() == 1);
    CHECK(s.notes[0] == "disk 'hdc' skipped: cdrom device");
}

TEST_CASE("selection: --disk and --exclude-disk") {
    CHECK(targets(xml::select_disks(mixed, {"vdb"}, {}, "vm")) == std::vector<std::string>{"vdb"});
    xml::DiskSelection s = xml::select_disks(mixed, {}, {"vda"}, "vm");
    CHECK(targets(s) == std::vector<std::string>{"vdb"});
    CHECK(s.notes[0] == "disk 'vda' skipped: excluded by --exclude-disk");
}

TEST_CASE("selection: an unknown target is a usage error listing the disks") {
    CHECK_THROWS_WITH_AS(xml::select_disks(mixed, {"vdz"}, {}, "vm"),
                         "--disk 'vdz': domain 'vm' has no such disk (its disks: vda, vdb, hdc)",
                         util::UsageError);
    CHECK_THROWS_AS(xml::select_disks(mixed, {}, {"sdq"}, "vm"), util::UsageError);
}

TEST_CASE("selection: a network disk is refused unless excluded; naming a cdrom is refused") {
    std::vector<Disk> with_rbd = mixed;
    with_rbd.push_back(disk("vdd", Eligibility::refused, "network disk (rbd)"));
    CHECK_THROWS_WITH_AS(xml::select_disks(with_rbd, {}, {}, "vm"),
                         doctest::Contains("'vdd': network disk (rbd)"), util::RefusedError);
    CHECK(targets(xml::select_disks(with_rbd, {}, {"vdd"}, "vm")) == std::vector<std::string>{"vda", "vdb"});
    CHECK_THROWS_AS(xml::select_disks(mixed, {"hdc"}, {}, "vm"), util::RefusedError);
}

TEST_CASE("selection: nothing left to snapshot is refused") {
    CHECK_THROWS_WITH_AS(xml::select_disks(mixed, {}, {"vda", "vdb"}, "vm"),
                         "domain 'vm' has no disk to snapshot", util::RefusedError);
}
