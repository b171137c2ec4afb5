#include "util/error.hpp"
#include "xml/document.hpp"
#include "xml/snapshot_xml.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;
using xml::Disk;

namespace {

Disk make_disk(const std::string& target, xml::DiskType type, const std::string& source) {
    Disk disk;
    disk.target = target;
    disk.type = type;
    disk.source = source;
    return disk;
}

} // namespace

TEST_CASE("overlays go next to their image, keep its stem, and carry virtsnap, the id and the target") {
    Disk vda = make_disk("vda", xml::DiskType::file, "/srv/my vm/disk é.qcow2");
    CHECK(xml::overlay_path_for(vda, "ID1", "", "/fallback") == "/srv/my vm/disk é.virtsnap-ID1.vda.qcow2");
    Disk raw = make_disk("vdb", xml::DiskType::file, "/srv/data");
    CHECK(xml::overlay_path_for(raw, "ID1", "", "/fallback") == "/srv/data.virtsnap-ID1.vdb.qcow2");
    CHECK(xml::overlay_path_for(raw, "ID1", "/overlays/", "/fallback") ==
          "/overlays/data.virtsnap-ID1.vdb.qcow2");
    CHECK(xml::overlay_path_for(raw, "ID1", "/", "") == "/data.virtsnap-ID1.vdb.qcow2");
}

TEST_CASE("a block device's overlay never goes under /dev") {
    Disk lv = make_disk("vdc", xml::DiskType::block, "/dev/vg0/vm-data");
    CHECK(xml::overlay_path_for(lv, "ID1", "", "/var/lib/virtsnap/overlays") ==
          "/var/lib/virtsnap/overlays/vm-data.virtsnap-ID1.vdc.qcow2");
    CHECK(xml::overlay_path_for(lv, "ID1", "/ov", "/fallback") == "/ov/vm-data.virtsnap-ID1.vdc.qcow2");
    CHECK_THROWS_AS(xml::overlay_path_for(lv, "ID1", "", ""), util::UsageError);
}

TEST_CASE("overlay names are recognised, other files are not") {
    CHECK(xml::looks_like_overlay("/srv/disk.virtsnap-ID1.vda.qcow2"));
    CHECK_FALSE(xml::looks_like_overlay("/srv/disk.qcow2"));
    CHECK_FALSE(xml::looks_like_overlay("/srv/disk.virtsnap-ID1.vda.raw"));
}

TEST_CASE("the snapshot XML names every chosen overlay and excludes every other disk") {
    std::vector<Disk> disks{make_disk("vda", xml::DiskType::file, "/a.qcow2"),
                            make_disk("vdb", xml::DiskType::block, "/dev/loop0"),
                            make_disk("hdc", xml::DiskType::file, "/cd.iso")};
    std::string text = xml::snapshot_xml(
        "ID1", disks,
        {{"vda", "/a.virtsnap-ID1.vda.qcow2"}, {"vdb", "/ov/loop0 & co.virtsnap-ID1.vdb.qcow2"}});
    xml::Document doc = xml::Document::parse(text, "snapshot");
    CHECK(xml::text_of(doc.select_one("/domainsnapshot/name")) == "virtsnap-ID1");
    auto vda = doc.select_one("/domainsnapshot/disks/disk[@name='vda']");
    CHECK(xml::attribute(vda, "snapshot") == "external");
    CHECK(xml::attribute(doc.select_one("driver", vda), "type") == "qcow2");
    CHECK(xml::attribute(doc.select_one("source", vda), "file") == "/a.virtsnap-ID1.vda.qcow2");
    auto vdb = doc.select_one("/domainsnapshot/disks/disk[@name='vdb']");
    CHECK(xml::attribute(doc.select_one("source", vdb), "file") == "/ov/loop0 & co.virtsnap-ID1.vdb.qcow2");
    CHECK(xml::attribute(doc.select_one("/domainsnapshot/disks/disk[@name='hdc']"), "snapshot") == "no");
}

TEST_CASE("an overlay for a target the domain lacks is an error") {
    std::vector<Disk> disks{make_disk("vda", xml::DiskType::file, "/a.qcow2")};
    CHECK_THROWS_AS(xml::snapshot_xml("ID1", disks, {{"vdz", "/z.qcow2"}}), util::Error);
}
