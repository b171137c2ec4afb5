// virtsnap-restore of an incremental set rebuilds the restore point from
// the whole chain of sets, each layer checked against its own set's
// manifest before a byte is read.

#include "chain_sets.hpp"
#include "copy/output_files.hpp"
#include "job/restore_disks.hpp"
#include "store/set_images.hpp"
#include "store/set_layout.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

const std::string full_id = test::chain_set_id(1);
const std::string inc1_id = test::chain_set_id(2);
const std::string inc2_id = test::chain_set_id(3);

const util::Log quiet("test", util::Verbosity::quiet);

// Restores vda of the set as format into dir/out; returns its content.
std::string restore(const test::TempDir& dir, const test::ChainSets& sets, const std::string& id,
                    const std::string& format) {
    const store::BackupSet set = store::read_set(sets.set_dir(id).string());
    const std::vector<store::DiskChain> chains = store::check_set_images(set, {&set.manifest->disks.front()});
    const fs::path out = dir / ("out-" + id + "-" + format);
    fs::create_directory(out);
    copy::OutputFiles outputs(out.string());
    job::rebuild_disk(chains.front(), format, outputs, quiet);
    outputs.publish_all(false);
    const fs::path raw = dir / "restored.raw";
    fs::remove(raw);
    util::run_checked(
        {"qemu-img", "convert", "-f", format, "-O", "raw", (out / ("vda." + format)).string(), raw.string()});
    return test::read_file(raw);
}

} // namespace

TEST_CASE("an incremental set restores as the disk at its snapshot, rebuilt through every set below") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(full_id, {"write -P 0x61 0 256k", "write -P 0x62 2M 64k"}, true);
    sets.add_inc(inc1_id, full_id, {"write -P 0x5a 64k 64k", "write -z 2M 64k"});
    sets.add_inc(inc2_id, inc1_id, {"write -P 0x33 3M 4k", "write -P 0x34 0 4k"});
    for (const std::string& format : {std::string("raw"), std::string("qcow2")}) {
        CAPTURE(format);
        CHECK(restore(dir, sets, inc2_id, format) == sets.expected(inc2_id));
        CHECK(restore(dir, sets, inc1_id, format) == sets.expected(inc1_id));
        CHECK(restore(dir, sets, full_id, format) == sets.expected(full_id));
    }
    // Zeros written in a later set hide the data below them.
    CHECK(sets.expected(inc1_id).substr(2 << 20, 4096) == std::string(4096, '\0'));
    CHECK(sets.expected(full_id).substr(2 << 20, 4096) == std::string(4096, 'b'));
}

TEST_CASE("a damaged layer in a parent set stops the restore before anything is written") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(full_id, {"write -P 0x61 0 256k"});
    sets.add_inc(inc1_id, full_id, {"write -P 0x5a 64k 64k"});
    util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0x77 1M 4k",
                       (sets.set_dir(full_id) / "vda.qcow2").string()});
    CHECK_THROWS_WITH_AS(restore(dir, sets, inc1_id, "raw"),
                         doctest::Contains(("in its parent set " + full_id + ": checksum mismatch").c_str()),
                         util::VerificationMismatch);
    CHECK_FALSE(fs::exists(dir / ("out-" + inc1_id + "-raw") / "vda.raw"));
}

namespace {

std::string domain_xml(const std::string& disks) {
    return "<domain type='qemu'><name>web</name><uuid>" + std::string(test::chain_domain_uuid) +
           "</uuid><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os><devices>" + disks +
           "</devices></domain>";
}

const std::string vda_disk = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                             "<source file='/var/lib/libvirt/images/web-vda.qcow2'/>"
                             "<target dev='vda' bus='virtio'/></disk>";

} // namespace

TEST_CASE("a disk attached to the running domain only is restored with the saved live definition") {
    // (Without libvirt: a unit test never opens a connection, which starts
    // libvirt's threads in the test process.)
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(full_id, {"write -P 0x61 0 64k"});
    const fs::path set_dir = sets.set_dir(full_id);
    test::write_file(set_dir / store::set_domain_xml_file, domain_xml(""));
    test::write_file(set_dir / store::set_live_domain_xml_file, domain_xml(vda_disk));
    const std::string image = (dir / "out" / "vda.qcow2").string();
    const std::vector<job::RestoredDisk> images{{"vda", image, "qcow2"}};
    const std::optional<std::string> written = job::restored_definition(
        store::read_set(set_dir.string()), images, "", nullptr, dir.path().string(), quiet);
    REQUIRE(written);
    CHECK(written->find(image) != std::string::npos);
    CHECK(written->find("web-vda.qcow2") == std::string::npos);

    // When neither holds it, the persistent one is used, which has no vda.
    test::write_file(set_dir / store::set_live_domain_xml_file, domain_xml(""));
    CHECK_THROWS_WITH_AS(job::restored_definition(store::read_set(set_dir.string()), images, "", nullptr,
                                                  dir.path().string(), quiet),
                         doctest::Contains("has no disk 'vda'"), util::InputError);
}
