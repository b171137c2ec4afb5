// virtsnap-verify of an incremental set: its own layer is checked, opened
// with the sets below it; --chain checks each of those too, against its own
// set's manifest.

#include "chain_sets.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"
#include "verify/backup_verification.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace virtsnap;

namespace {

const std::string full_id = test::chain_set_id(1);
const std::string inc1_id = test::chain_set_id(2);
const std::string inc2_id = test::chain_set_id(3);

const util::Log quiet("test", util::Verbosity::quiet);

struct Chain {
    test::TempDir dir;
    test::ChainSets sets{dir};
    xml::Manifest full = sets.add_full(full_id, {"write -P 0x61 0 256k", "write -P 0x62 2M 64k"}, true);
    xml::Manifest inc1 = sets.add_inc(inc1_id, full_id, {"write -P 0x5a 64k 64k", "write -z 2M 64k"});
    xml::Manifest inc2 = sets.add_inc(inc2_id, inc1_id, {"write -P 0x33 3M 4k"});

    verify::VerifySettings checksums(bool chain = false) const {
        verify::VerifySettings settings;
        settings.dir = sets.set_dir(inc2_id).string();
        settings.checksums = true;
        settings.qemu_checksums = true;
        settings.chain = chain;
        return settings;
    }
};

} // namespace

TEST_CASE("an incremental set's own layer is verified, opened with its parent sets") {
    Chain c;
    xml::Manifest manifest = c.inc2;
    verify::verify_backup(manifest, c.checksums(), quiet);
    std::vector<std::string> kinds;
    for (const xml::Verification& verification : manifest.disks.front().verifications) {
        kinds.push_back(verification.kind);
        CHECK_MESSAGE(verification.result == "ok", verification.detail);
    }
    CHECK(kinds == std::vector<std::string>{"image", "checksums", "qemu-checksums"});
    manifest = c.inc2;
    verify::verify_backup(manifest, c.checksums(true), quiet);
}

TEST_CASE("--chain finds a damaged layer of a parent set; without it only the set's own layer is read") {
    Chain c;
    // Data the restore point no longer sees (inc1 zeroed it), changed in
    // the full set's top layer: only that set's checksums can tell.
    util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0x77 2M 4k",
                       (c.sets.set_dir(full_id) / "vda.qcow2").string()});
    xml::Manifest manifest = c.inc2;
    verify::verify_backup(manifest, c.checksums(), quiet);
    manifest = c.inc2;
    CHECK_THROWS_WITH_AS(
        verify::verify_backup(manifest, c.checksums(true), quiet),
        doctest::Contains(("parent set " + full_id + ": disk 'vda': checksum mismatch").c_str()),
        util::VerificationMismatch);
    CHECK(c.sets.content(inc2_id) == c.sets.expected(inc2_id));
}

TEST_CASE("an incremental set whose parent set is missing is bad input, not a mismatch") {
    Chain c;
    std::filesystem::remove_all(c.sets.set_dir(inc1_id));
    xml::Manifest manifest = c.inc2;
    CHECK_THROWS_WITH_AS(verify::verify_backup(manifest, c.checksums(), quiet),
                         doctest::Contains(("the parent set " + inc1_id).c_str()), util::InputError);
}

TEST_CASE("--checksums checks a set's block sums too; damaged ones are a mismatch") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    xml::Manifest full = sets.add_full(full_id, {"write -P 0x61 0 256k"}, false, true);
    REQUIRE(full.disks.front().backup->block_sums);
    verify::VerifySettings settings;
    settings.dir = sets.set_dir(full_id).string();
    settings.checksums = true;
    xml::Manifest manifest = full;
    verify::verify_backup(manifest, settings, quiet);
    CHECK(manifest.disks.front().verifications.back().kind == "block-sums");
    CHECK(manifest.disks.front().verifications.back().result == "ok");

    // One digest changed: the image is intact, the sums are not.
    const std::filesystem::path blocks = sets.set_dir(full_id) / full.disks.front().backup->block_sums->name;
    std::string bytes = test::read_file(blocks);
    bytes[bytes.size() - 1] = static_cast<char>(bytes[bytes.size() - 1] ^ 1);
    test::write_file(blocks, bytes);
    manifest = full;
    CHECK_THROWS_AS(verify::verify_backup(manifest, settings, quiet), util::VerificationMismatch);
    CHECK(manifest.disks.front().verifications.back().kind == "block-sums");
    CHECK(manifest.disks.front().verifications.back().result == "mismatch");
    // Without --checksums they are not read.
    settings.checksums = false;
    manifest = full;
    verify::verify_backup(manifest, settings, quiet);
}
