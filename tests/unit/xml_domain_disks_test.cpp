#include "temp_dir.hpp"
#include "util/error.hpp"
#include "xml/domain_disks.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

fs::path data_dir() {
    return fs::path(VIRTSNAP_TEST_DATA_DIR) / "domains";
}

std::vector<xml::Disk> parse_file(const fs::path& path) {
    xml::Document doc = xml::Document::parse(test::read_file(path), path.filename().string());
    return xml::parse_domain_disks(doc);
}

const xml::Disk& by_target(const std::vector<xml::Disk>& disks, const std::string& target) {
    for (const xml::Disk& disk : disks)
        if (disk.target == target)
            return disk;
    throw std::runtime_error("no disk " + target);
}

} // namespace

// Golden files: tests/data/domains/NAME.xml in, NAME.model out. Set
// VIRTSNAP_REGENERATE_GOLDEN=1 to rewrite the .model files on purpose, then
// review the diff.
TEST_CASE("golden: domain XML in, disk model out") {
    const bool regenerate = std::getenv("VIRTSNAP_REGENERATE_GOLDEN") != nullptr;
    int compared = 0;
    for (const fs::directory_entry& entry : fs::directory_iterator(data_dir())) {
        if (entry.path().extension() != ".xml")
            continue;
        fs::path golden = entry.path();
        golden.replace_extension(".model");
        std::string model = xml::render(parse_file(entry.path()));
        if (regenerate)
            test::write_file(golden, model);
        CAPTURE(entry.path().filename().string());
        REQUIRE(fs::exists(golden));
        CHECK(test::read_file(golden) == model);
        ++compared;
    }
    CHECK(compared >= 6);
}

TEST_CASE("a qcow2 on a chain keeps libvirt's chain, immediate backing image first") {
    auto disks = parse_file(data_dir() / "qcow2-chain.xml");
    REQUIRE(disks.size() == 1);
    const xml::Disk& vda = disks[0];
    CHECK(vda.eligibility == xml::Eligibility::eligible);
    CHECK(vda.chain_origin == xml::ChainOrigin::libvirt);
    REQUIRE(vda.backing.size() == 2);
    CHECK(vda.backing[0].path == "/var/lib/libvirt/images/middle.qcow2");
    CHECK(vda.backing[0].format == "qcow2");
    CHECK(vda.backing[1].path == "/var/lib/libvirt/images/template.raw");
    CHECK(vda.backing[1].format == "raw");
}

TEST_CASE("raw files and block devices are eligible with a known empty chain") {
    auto disks = parse_file(data_dir() / "raw-and-block.xml");
    const xml::Disk& vdc = by_target(disks, "vdc");
    CHECK(vdc.type == xml::DiskType::block);
    CHECK(vdc.source == "/dev/vg0/vm-data");
    CHECK(vdc.eligibility == xml::Eligibility::eligible);
    CHECK(vdc.chain_origin == xml::ChainOrigin::libvirt);
    CHECK(vdc.backing.empty());
    CHECK(by_target(disks, "vdb").format == "raw");
}

TEST_CASE("cdroms, floppies, read-only and shareable disks are skipped with a reason") {
    auto disks = parse_file(data_dir() / "skipped-devices.xml");
    REQUIRE(disks.size() == 5);
    for (const xml::Disk& disk : disks) {
        CAPTURE(disk.target);
        CHECK(disk.eligibility == xml::Eligibility::skipped);
        CHECK_FALSE(disk.reason.empty());
    }
    CHECK(by_target(disks, "vdd").reason == "read-only disk");
    CHECK(by_target(disks, "vde").reason == "shareable disk");
    CHECK(by_target(disks, "hdd").source.empty());
}

TEST_CASE("network, volume, lun and unknown disk types are refused, naming the protocol") {
    auto disks = parse_file(data_dir() / "refused-devices.xml");
    for (const xml::Disk& disk : disks) {
        CAPTURE(disk.target);
        CHECK(disk.eligibility == xml::Eligibility::refused);
    }
    CHECK(by_target(disks, "vda").network_protocol == "rbd");
    CHECK(by_target(disks, "vda").reason.find("rbd") != std::string::npos);
    CHECK(by_target(disks, "vde").reason.find("nvme") != std::string::npos);
}

TEST_CASE("paths with spaces, quotes, entities and non-ASCII letters come through intact") {
    auto disks = parse_file(data_dir() / "odd-paths.xml");
    CHECK(by_target(disks, "vda").source == "/var/lib/libvirt/images/my vm/disk one é.qcow2");
    CHECK(by_target(disks, "vda").backing.at(0).path ==
          "/var/lib/libvirt/images/bases/Ünïcode base & co.qcow2");
    CHECK(by_target(disks, "vdb").source == "/srv/it's \"quoted\".raw");
}

TEST_CASE("no <backingStore> leaves the chain unknown, for qemu-img to fill") {
    auto disks = parse_file(data_dir() / "inactive-no-chain.xml");
    for (const xml::Disk& disk : disks)
        CHECK(disk.chain_origin == xml::ChainOrigin::unknown);
}

TEST_CASE("documents that are not domains, and disks without targets, are input errors") {
    CHECK_THROWS_AS(xml::parse_domain_disks(xml::Document::parse("<manifest/>", "x")), util::InputError);
    CHECK_THROWS_WITH_AS(
        xml::parse_domain_disks(xml::Document::parse(
            "<domain><devices><disk type='file'><source file='/a'/></disk></devices></domain>", "x")),
        doctest::Contains("no <target"), util::InputError);
}

TEST_CASE("a newline in a path cannot forge a line of the rendering") {
    xml::Disk disk;
    disk.target = "vda";
    disk.device_name = "disk";
    disk.type_name = "file";
    disk.source = "/a\n  eligibility: refused";
    xml::classify(disk);
    std::string text = xml::render({disk});
    CHECK(text.find("source: /a\\n  eligibility: refused\n") != std::string::npos);
}

TEST_CASE("a <backingStore> chain without its empty end is unknown, not taken as complete") {
    // What libvirt writes to the persistent definition after an external
    // snapshot: the overlay's backing image, and nothing about what is below.
    const std::string text = "<domain><devices><disk type='file' device='disk'><driver type='qcow2'/>"
                             "<source file='/vm/top.virtsnap-1.vda.qcow2'/>"
                             "<backingStore type='file'><format type='qcow2'/><source file='/vm/top.qcow2'/>"
                             "</backingStore><target dev='vda'/></disk></devices></domain>";
    xml::Document doc = xml::Document::parse(text, "snapshot-written definition");
    const std::vector<xml::Disk> disks = xml::parse_domain_disks(doc);
    REQUIRE(disks.size() == 1);
    CHECK(disks[0].chain_origin == xml::ChainOrigin::unknown);
    CHECK(disks[0].backing.empty());
}
