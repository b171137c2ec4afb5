#include "copy/disk_copy.hpp"
#include "copy/output_files.hpp"
#include "temp_dir.hpp"
#include "util/log.hpp"
#include "verify/verify_queue.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;

// virtsnap-backup's pipeline with every thread it has: two disks copied at
// once (each with its writer thread) and each one verified on the queue's
// thread as soon as it is done. What the ThreadSanitizer build is for.
TEST_CASE("disks copied two at a time, each verified on the queue's thread as it is done") {
    test::TempDir dir;
    std::filesystem::create_directory(dir / "out");
    xml::Manifest manifest;
    manifest.offline = true;
    for (const std::string target : {"vda", "vdb", "vdc"}) {
        std::string content(3 << 20, '\0');
        for (std::size_t at = 0; at < content.size(); at += 1 << 20)
            content.replace(at + 4096, target.size(), target);
        test::write_file(dir / (target + ".img"), content);
        xml::ManifestDisk disk;
        disk.target = target;
        disk.source_type = "file";
        disk.format = "raw";
        disk.frozen = (dir / (target + ".img")).string();
        disk.virtual_size = content.size();
        manifest.disks.push_back(disk);
    }
    const util::Log quiet("test", util::Verbosity::quiet);
    copy::OutputFiles outputs((dir / "out").string());
    verify::VerifySettings checks;
    checks.dir = outputs.dir();
    checks.source = true;
    verify::VerifyQueue queue(manifest, checks, quiet);

    copy::CopySettings settings;
    settings.format = "raw";
    settings.jobs = 2;
    settings.publish_each_disk = true; // the queue reads the published file
    settings.copied = [&](std::size_t index) { queue.push(index); };
    copy::copy_disks(manifest, settings, outputs, quiet);
    queue.finish();

    for (const xml::ManifestDisk& disk : manifest.disks) {
        CAPTURE(disk.target);
        REQUIRE(disk.backup);
        CHECK(disk.backup->files.at(0).data_bytes == 3 * 4096);
        REQUIRE(disk.verifications.size() == 1);
        CHECK(disk.verifications[0].result == "ok");
    }
}
