#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/log.hpp"
#include "verify/verify_queue.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

using namespace virtsnap;

namespace {

// An offline manifest (no overlays to check) of disks whose frozen image
// and raw backup are files in dir; a disk listed in differing gets a backup
// with one byte changed.
xml::Manifest offline_manifest(const test::TempDir& dir, std::vector<std::string> targets,
                               const std::string& differing = "") {
    xml::Manifest manifest;
    manifest.offline = true;
    for (const std::string& target : targets) {
        std::string content(1 << 20, '\0');
        content.replace(4096, target.size(), target);
        test::write_file(dir / (target + ".img"), content);
        if (target == differing)
            content[300000] = 'x';
        test::write_file(dir / (target + ".raw"), content);
        xml::ManifestDisk disk;
        disk.target = target;
        disk.format = "raw";
        disk.frozen = (dir / (target + ".img")).string();
        disk.virtual_size = content.size();
        disk.backup = xml::DiskBackup{};
        disk.backup->format = "raw";
        disk.backup->files.push_back({target + ".raw", "", 0, 0, "", {}, ""});
        manifest.disks.push_back(disk);
    }
    return manifest;
}

verify::VerifySettings source_check(const test::TempDir& dir) {
    verify::VerifySettings settings;
    settings.dir = dir.path().string();
    settings.source = true;
    return settings;
}

const util::Log quiet("test", util::Verbosity::quiet);

} // namespace

TEST_CASE("the verify queue compares each pushed disk with its frozen image and records it") {
    test::TempDir dir;
    xml::Manifest manifest = offline_manifest(dir, {"vda", "vdb"});
    verify::VerifyQueue queue(manifest, source_check(dir), quiet);
    queue.push(1);
    queue.push(0);
    queue.finish();
    for (const xml::ManifestDisk& disk : manifest.disks) {
        REQUIRE(disk.verifications.size() == 1);
        CHECK(disk.verifications[0].kind == "source");
        CHECK(disk.verifications[0].result == "ok");
    }
    CHECK_FALSE(queue.failed());
}

TEST_CASE("a differing copy fails the queue, names its disk and offset, and the others are still recorded") {
    test::TempDir dir;
    xml::Manifest manifest = offline_manifest(dir, {"vda", "vdb"}, "vdb");
    verify::VerifyQueue queue(manifest, source_check(dir), quiet);
    queue.push(1);
    // failed() turns true as soon as the check is done, before finish():
    // what lets a backup stop copying the disks still to come.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!queue.failed() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(queue.failed());
    queue.push(0);
    CHECK_THROWS_WITH_AS(queue.finish(), doctest::Contains("disk 'vdb'"), util::VerificationMismatch);
    REQUIRE(manifest.disks[1].verifications.size() == 1);
    CHECK(manifest.disks[1].verifications[0].result == "mismatch");
    CHECK(manifest.disks[1].verifications[0].detail.find("offset 299520") != std::string::npos);
    REQUIRE(manifest.disks[0].verifications.size() == 1);
    CHECK(manifest.disks[0].verifications[0].result == "ok");
}

TEST_CASE("a check that cannot run is the error finish() throws") {
    test::TempDir dir;
    xml::Manifest manifest = offline_manifest(dir, {"vda"});
    std::filesystem::remove(dir / "vda.raw");
    verify::VerifyQueue queue(manifest, source_check(dir), quiet);
    queue.push(0);
    CHECK_THROWS_WITH_AS(queue.finish(), doctest::Contains("vda.raw' is missing"), util::Error);
}

TEST_CASE("a queue dropped without finish() ends its thread") {
    test::TempDir dir;
    xml::Manifest manifest = offline_manifest(dir, {"vda", "vdb"});
    {
        verify::VerifyQueue queue(manifest, source_check(dir), quiet);
        queue.push(0);
        queue.push(1);
    }
    // Whatever was not started is abandoned, never half-recorded.
    for (const xml::ManifestDisk& disk : manifest.disks)
        CHECK(disk.verifications.size() <= 1);
}
