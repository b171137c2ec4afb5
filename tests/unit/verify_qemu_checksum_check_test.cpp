// The checksums of a backup where QEMU maps its content: a sound copy
// matches what was recorded while copying; a changed byte, an L2 entry
// naming another cluster, a zero flag set on a data cluster, each is found,
// so the check really reads the file through QEMU's view of its tables.

#include "copy/disk_copy.hpp"
#include "copy/output_files.hpp"
#include "temp_dir.hpp"
#include "util/log.hpp"
#include "util/subprocess.hpp"
#include "verify/backup_verification.hpp"
#include "verify/qemu_checksum_check.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace virtsnap;

namespace {

constexpr std::uint64_t cluster = 64 << 10;
constexpr std::uint64_t disk_size = 4 << 20;

// Clusters 0 to 5 hold data, each its own byte; the rest is a hole.
std::string disk_content() {
    std::string content(disk_size, '\0');
    for (std::uint64_t i = 0; i < 6; ++i)
        content.replace(i * cluster, cluster, std::string(cluster, static_cast<char>('a' + i)));
    return content;
}

xml::ManifestDisk source_disk(const std::string& path, const std::string& format, std::uint64_t size) {
    xml::ManifestDisk disk;
    disk.target = "vda";
    disk.source_type = "file";
    disk.format = format;
    disk.frozen = path;
    disk.virtual_size = size;
    return disk;
}

// Copies the manifest's disks into dir/out as format; the backup and its
// checksums are recorded in the manifest.
std::string copy_into(const test::TempDir& dir, xml::Manifest& manifest, const std::string& format,
                      bool keep_chain = false) {
    std::filesystem::create_directory(dir / "out");
    const util::Log quiet("test", util::Verbosity::quiet);
    copy::OutputFiles outputs((dir / "out").string());
    copy::CopySettings settings;
    settings.format = format;
    settings.keep_chain = keep_chain;
    settings.publish_each_disk = true; // the check reads the published files
    copy::copy_disks(manifest, settings, outputs, quiet);
    return (dir / "out").string();
}

std::uint64_t read_be64(std::fstream& file, std::uint64_t at) {
    unsigned char bytes[8];
    file.seekg(static_cast<std::streamoff>(at));
    file.read(reinterpret_cast<char*>(bytes), 8);
    REQUIRE(file);
    std::uint64_t value = 0;
    for (unsigned char byte : bytes)
        value = value << 8 | byte;
    return value;
}

void write_be64(std::fstream& file, std::uint64_t at, std::uint64_t value) {
    char bytes[8];
    for (int i = 7; i >= 0; --i, value >>= 8)
        bytes[i] = static_cast<char>(value & 0xff);
    file.seekp(static_cast<std::streamoff>(at));
    file.write(bytes, 8);
    REQUIRE(file);
}

constexpr std::uint64_t offset_mask = 0x00fffffffffffe00ULL;

// Where the L2 entry of guest cluster `index` lies in a qcow2 file (the
// first L2 table covers the whole small disk).
std::uint64_t l2_entry_at(std::fstream& file, std::uint64_t index) {
    const std::uint64_t cluster_bits = read_be64(file, 20) >> 32;
    REQUIRE(cluster_bits == 16); // 64 KiB clusters
    const std::uint64_t l1_offset = read_be64(file, 40);
    const std::uint64_t l2_offset = read_be64(file, l1_offset) & offset_mask;
    REQUIRE(l2_offset != 0);
    return l2_offset + 8 * index;
}

verify::CheckOutcome check(const std::string& dir, const xml::ManifestDisk& disk, std::size_t index = 0) {
    return verify::check_checksums_as_qemu_maps(dir, *disk.backup, index, disk.virtual_size);
}

} // namespace

TEST_CASE("a sound qcow2 copy matches its checksums as QEMU maps it; a changed byte does not") {
    test::TempDir dir;
    test::write_file(dir / "disk.img", disk_content());
    xml::Manifest manifest;
    manifest.offline = true;
    manifest.disks.push_back(source_disk((dir / "disk.img").string(), "raw", disk_size));
    const std::string out = copy_into(dir, manifest, "qcow2");
    const xml::ManifestDisk& disk = manifest.disks.front();
    REQUIRE(disk.backup);

    verify::CheckOutcome sound = check(out, disk);
    CHECK_MESSAGE(sound.ok, sound.detail);
    CHECK(sound.detail.find("as QEMU maps it: checksums match") == 0);

    const std::string copy = out + "/" + disk.backup->files.front().name;
    {
        std::fstream file(copy, std::ios::in | std::ios::out | std::ios::binary);
        const std::uint64_t data = read_be64(file, l2_entry_at(file, 2)) & offset_mask;
        REQUIRE(data != 0);
        file.seekp(static_cast<std::streamoff>(data + 1000));
        file.put('X');
    }
    verify::CheckOutcome damaged = check(out, disk);
    CHECK_FALSE(damaged.ok);
    CHECK_MESSAGE(damaged.detail.find("damaged chunk(s)") != std::string::npos, damaged.detail);
}

TEST_CASE("an L2 entry pointing to the wrong cluster, or a data cluster marked zero, is found") {
    test::TempDir dir;
    test::write_file(dir / "disk.img", disk_content());
    xml::Manifest manifest;
    manifest.offline = true;
    manifest.disks.push_back(source_disk((dir / "disk.img").string(), "raw", disk_size));
    const std::string out = copy_into(dir, manifest, "qcow2");
    const xml::ManifestDisk& disk = manifest.disks.front();
    const std::string copy = out + "/" + disk.backup->files.front().name;
    REQUIRE(check(out, disk).ok);

    std::fstream file(copy, std::ios::in | std::ios::out | std::ios::binary);
    const std::uint64_t entry3 = l2_entry_at(file, 3);
    const std::uint64_t original = read_be64(file, entry3);

    SUBCASE("guest cluster 3 names the host cluster of guest cluster 2") {
        write_be64(file, entry3, read_be64(file, l2_entry_at(file, 2)));
    }
    SUBCASE("guest cluster 3 keeps its host cluster but carries the zero flag") {
        write_be64(file, entry3, original | 1);
    }
    file.close();
    verify::CheckOutcome outcome = check(out, disk);
    CHECK_FALSE(outcome.ok);
    CHECK_MESSAGE(outcome.detail.find("at offset 0") != std::string::npos, outcome.detail);
}

TEST_CASE("a raw copy is mapped by QEMU too; a changed byte is found, an odd size hashed exactly") {
    for (const std::uint64_t size : {disk_size, disk_size - 1000})
        for (const std::string format : {"raw", "qcow2"}) {
            CAPTURE(format);
            CAPTURE(size);
            test::TempDir dir;
            std::string content = disk_content();
            content.resize(size);
            content[size - 10] = 'z';
            test::write_file(dir / "disk.img", content);
            xml::Manifest manifest;
            manifest.offline = true;
            manifest.disks.push_back(source_disk((dir / "disk.img").string(), "raw", size));
            const std::string out = copy_into(dir, manifest, format);
            const xml::ManifestDisk& disk = manifest.disks.front();
            verify::CheckOutcome sound = check(out, disk);
            CHECK_MESSAGE(sound.ok, sound.detail);
            if (format != "raw")
                continue;
            std::fstream file(out + "/" + disk.backup->files.front().name,
                              std::ios::in | std::ios::out | std::ios::binary);
            file.seekp(static_cast<std::streamoff>(5 * cluster + 7));
            file.put('\0'); // a data byte made zero: the block still counts
            file.close();
            CHECK_FALSE(check(out, disk).ok);
        }
}

TEST_CASE("each layer of a kept chain is hashed on its own clusters as QEMU maps them") {
    test::TempDir dir;
    const std::string base = (dir / "base.qcow2").string();
    const std::string top = (dir / "top.qcow2").string();
    util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", base, "4M"});
    util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0x61 0 256k", base});
    util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, top});
    util::run_checked(
        {"qemu-io", "-f", "qcow2", "-c", "write -P 0x62 128k 256k", "-c", "write -z 1M 64k", top});
    xml::Manifest manifest;
    manifest.offline = true;
    xml::ManifestDisk disk = source_disk(top, "qcow2", disk_size);
    disk.chain.push_back({base, "qcow2"});
    manifest.disks.push_back(disk);
    const std::string out = copy_into(dir, manifest, "qcow2", true);
    const xml::ManifestDisk& copied = manifest.disks.front();
    REQUIRE(copied.backup->files.size() == 2);
    for (std::size_t index = 0; index < 2; ++index) {
        CAPTURE(index);
        verify::CheckOutcome outcome = check(out, copied, index);
        CHECK_MESSAGE(outcome.ok, outcome.detail);
    }

    // The same through verify_disk: the kind recorded is its own.
    xml::Manifest verified = manifest;
    const xml::ManifestDisk& recorded = verified.disks.front();
    verify::VerifySettings settings;
    settings.dir = out;
    settings.qemu_checksums = true;
    verify::Mismatches found;
    verify::verify_disk(verified, 0, settings, found, util::Log("test", util::Verbosity::quiet));
    CHECK(found.empty());
    std::size_t kinds = 0;
    for (const xml::Verification& verification : recorded.verifications)
        if (verification.kind == "qemu-checksums") {
            ++kinds;
            CHECK(verification.result == "ok");
        }
    CHECK(kinds == 2);
}
