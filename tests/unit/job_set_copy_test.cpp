// When a backup lets go of a disk's frozen image (its overlay may then be
// merged back): at once after the copy when the verification reads the copy
// alone, only after the verification when it compares with that image.

#include "job/backup_paths.hpp"
#include "temp_dir.hpp"
#include "util/log.hpp"

#include <doctest/doctest.h>

#include <map>
#include <mutex>

using namespace virtsnap;

namespace {

xml::ManifestDisk raw_disk(const test::TempDir& dir, const std::string& target, char fill) {
    const std::string path = (dir / (target + ".img")).string();
    std::string content(1 << 20, '\0');
    content.replace(4096, 65536, std::string(65536, fill));
    test::write_file(path, content);
    xml::ManifestDisk disk;
    disk.target = target;
    disk.source_type = "file";
    disk.format = "raw";
    disk.frozen = path;
    disk.virtual_size = content.size();
    return disk;
}

// For each disk released: how many verifications it had recorded then.
std::map<std::size_t, std::size_t> released(job::Verification verification) {
    test::TempDir dir;
    xml::Manifest manifest;
    manifest.offline = true;
    manifest.disks.push_back(raw_disk(dir, "vda", 'a'));
    manifest.disks.push_back(raw_disk(dir, "vdb", 'b'));
    job::BackupSettings settings;
    settings.verification = verification;
    settings.copy.format = "qcow2";
    job::SetDirectory set((dir / "set").string());
    const util::Log quiet("test", util::Verbosity::quiet);
    std::mutex mutex;
    std::map<std::size_t, std::size_t> seen;
    job::copy_and_verify(manifest, settings.copy, settings, set, quiet, [&](std::size_t disk) {
        std::lock_guard<std::mutex> lock(mutex);
        seen[disk] = manifest.disks.at(disk).verifications.size();
    });
    for (const xml::ManifestDisk& disk : manifest.disks) {
        REQUIRE(disk.verifications.size() >= 1);
        for (const xml::Verification& check : disk.verifications)
            CHECK_MESSAGE(check.result == "ok", check.detail);
    }
    return seen;
}

} // namespace

TEST_CASE("a disk verified by its checksums alone is let go as soon as it is copied") {
    const std::map<std::size_t, std::size_t> seen = released(job::Verification::qemu_checksums);
    CHECK(seen == std::map<std::size_t, std::size_t>{{0, 0}, {1, 0}});
}

TEST_CASE("a disk compared with its frozen image is let go only once it is verified") {
    const std::map<std::size_t, std::size_t> seen = released(job::Verification::source);
    REQUIRE(seen.size() == 2);
    for (const auto& [disk, verifications] : seen)
        CHECK(verifications >= 1);
}
