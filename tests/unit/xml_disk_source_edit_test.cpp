#include "util/error.hpp"
#include "xml/disk_source_edit.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;

namespace {

// A persistent definition as libvirt leaves it when the domain shut down on
// its overlays: block device vdb now a file, raw disk now qcow2, a chain.
const std::string on_overlays = R"(<domain type='qemu'><name>vm</name><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='/img/top.virtsnap-S.vda.qcow2' index='3'/>
<backingStore type='file'><format type='qcow2'/><source file='/img/top.qcow2'/><backingStore/></backingStore>
<target dev='vda' bus='virtio'/></disk>
<disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/>
<source file='/ov/sdb.virtsnap-S.vdb.qcow2'><seclabel model='dac' relabel='no'/></source>
<target dev='vdb' bus='virtio'/></disk>
</devices></domain>)";

} // namespace

TEST_CASE("disk_source reads the source of a target, empty when absent") {
    CHECK(xml::disk_source(on_overlays, "vda", "t") == "/img/top.virtsnap-S.vda.qcow2");
    CHECK(xml::disk_source(on_overlays, "vdz", "t").empty());
}

TEST_CASE("with_disk_source puts a file disk back exactly and drops the overlay's chain") {
    std::string fixed = xml::with_disk_source(on_overlays, "vda", "file", "/img/top.qcow2", "qcow2", "t");
    CHECK(xml::disk_source(fixed, "vda", "t") == "/img/top.qcow2");
    CHECK(fixed.find("backingStore") == std::string::npos);
    CHECK(fixed.find("index=") == std::string::npos);
    CHECK(xml::disk_source(fixed, "vdb", "t") == "/ov/sdb.virtsnap-S.vdb.qcow2"); // other disks untouched
}

TEST_CASE("with_disk_source restores a raw block device: type, dev= and format, keeping other settings") {
    std::string fixed = xml::with_disk_source(on_overlays, "vdb", "block", "/dev/vg/sdb", "raw", "t");
    CHECK(fixed.find(
              "<disk type=\"block\" device=\"disk\"><driver name=\"qemu\" type=\"raw\" cache=\"none\"/>") !=
          std::string::npos);
    CHECK(fixed.find("<source dev=\"/dev/vg/sdb\"><seclabel") != std::string::npos);
    CHECK(xml::disk_source(fixed, "vdb", "t") == "/dev/vg/sdb");
}

TEST_CASE("with_disk_source: an unknown target is an input error") {
    CHECK_THROWS_AS(xml::with_disk_source(on_overlays, "vdq", "file", "/x", "raw", "t"), util::InputError);
}
