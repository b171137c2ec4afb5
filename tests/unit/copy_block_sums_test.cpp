// Block sums as backups make them: a full computes them while copying (a
// raw and a qcow2 copy of one content agree), an incremental layer updates
// its parent's (blocks it holds in part become unknown), and a copy by
// content reads the whole disk and writes exactly the blocks whose sums
// differ, so that the chain through the new layer is the disk.

#include "copy/content_copier.hpp"
#include "copy/disk_copy.hpp"
#include "copy/output_files.hpp"
#include "image/block_sums.hpp"
#include "image/image_map.hpp"
#include "store/set_block_sums.hpp"
#include "temp_dir.hpp"
#include "util/log.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <memory>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t size = 4 << 20;
constexpr std::uint64_t kib64 = image::block_sum_size;
const std::string first_id = "20261101-000000-000-0001";
const std::string second_id = "20261101-000000-000-0002";

void qemu_io(const std::string& image, const std::vector<std::string>& writes) {
    std::vector<std::string> argv{"qemu-io", "-f", "qcow2"};
    for (const std::string& write : writes)
        argv.insert(argv.end(), {"-c", write});
    argv.push_back(image);
    util::run_checked(argv);
}

std::string make_qcow2(const fs::path& path, const std::string& backing = "",
                       const std::string& cluster = "") {
    std::vector<std::string> argv{"qemu-img", "create", "-q", "-f", "qcow2"};
    if (!cluster.empty())
        argv.insert(argv.end(), {"-o", "cluster_size=" + cluster});
    if (!backing.empty())
        argv.insert(argv.end(), {"-F", "qcow2", "-b", backing});
    argv.push_back(path.string());
    if (backing.empty())
        argv.push_back(std::to_string(size));
    util::run_checked(argv);
    return path.string();
}

std::string raw_content(const std::string& image, const std::string& format, const fs::path& scratch) {
    fs::remove(scratch);
    util::run_checked({"qemu-img", "convert", "-f", format, "-O", "raw", image, scratch.string()});
    return test::read_file(scratch);
}

// The block sums of the disk whose chain is images (top first), computed
// as a full computes them: the reference.
image::BlockSums disk_sums(const std::vector<copy::SourceImage>& images) {
    const copy::SourceChain source =
        copy::SourceChain::open(images, image::ImageOrigin::host, size, "test disk");
    const std::vector<image::Extent> map = source.map(0);
    const copy::CopyPlan plan = copy::plan_flattened(map, source.size());
    std::unique_ptr<copy::SourceReader> reader = source.reader(0, map);
    image::ContentHasher hasher(size, image::default_chunk_size);
    image::BlockSumsBuilder sums(size);
    hasher.set_block_sums(&sums, true);
    copy::copy_content(plan, *reader, nullptr, &hasher, nullptr);
    return sums.finish();
}

copy::DiskCopyRequest request_of(const std::vector<copy::SourceImage>& images) {
    copy::DiskCopyRequest request;
    request.target = "vda";
    request.chain = images;
    request.virtual_size = size;
    return request;
}

// Copies into the set directory id under domain_dir, publishing the files.
xml::DiskBackup copy_into(const fs::path& domain_dir, const std::string& id,
                          const std::vector<copy::SourceImage>& images, const copy::CopySettings& settings) {
    fs::create_directories(domain_dir / id);
    const util::Log quiet("test", util::Verbosity::quiet);
    copy::OutputFiles outputs((domain_dir / id).string());
    const xml::DiskBackup backup = copy::copy_disk(request_of(images), settings, outputs, quiet);
    outputs.publish_all(false);
    return backup;
}

image::BlockSums read_sums(const fs::path& dir, const xml::DiskBackup& backup) {
    xml::ManifestDisk disk;
    disk.target = "vda";
    disk.virtual_size = size;
    disk.backup = backup;
    return store::read_block_sums(dir.string(), disk);
}

copy::CopySettings full_settings() {
    copy::CopySettings settings;
    settings.block_sums = true;
    return settings;
}

copy::CopySettings layer_settings(const image::BlockSums& parent, bool by_content) {
    copy::CopySettings settings;
    settings.block_sums = true;
    settings.incremental_parent = first_id;
    settings.by_content = by_content;
    settings.block_sums_below = std::make_shared<const std::map<std::string, image::BlockSums>>(
        std::map<std::string, image::BlockSums>{{"vda", parent}});
    return settings;
}

} // namespace

TEST_CASE("a full copy keeps the disk's block sums beside its image; storage does not change them") {
    test::TempDir dir;
    const std::string source = make_qcow2(dir / "disk.qcow2");
    qemu_io(source, {"write -P 0x61 0 64k", "write -P 0x62 1M 4k", "write -z 2M 64k", "write -P 0 3M 64k"});
    const fs::path web = dir / "web";
    const xml::DiskBackup backup = copy_into(web, first_id, {{source, "qcow2"}}, full_settings());
    REQUIRE(backup.block_sums);
    CHECK(backup.block_sums->name == "vda.blocks");
    CHECK(fs::is_regular_file(web / first_id / "vda.blocks"));
    CHECK_FALSE(fs::exists(web / first_id / "vda.blocks.partial"));
    const image::BlockSums sums = read_sums(web / first_id, backup);
    CHECK(sums.digests() == disk_sums({{source, "qcow2"}}).digests());
    CHECK(sums.unknown() == 0);
    CHECK(sums.digests()[0] != 0);
    CHECK(sums.digests()[(1 << 20) / kib64] != 0);
    CHECK(sums.digests()[(2 << 20) / kib64] == 0); // zero cluster
    CHECK(sums.digests()[(3 << 20) / kib64] == 0); // written zeros
    CHECK(sums.digests()[1] == 0);                 // a hole

    // A raw file of the same content: the same sums.
    const fs::path raw = dir / "disk.raw";
    util::run_checked({"qemu-img", "convert", "-f", "qcow2", "-O", "raw", source, raw.string()});
    CHECK(disk_sums({{raw.string(), "raw"}}).digests() == sums.digests());

    // Without block_sums (virtsnap-copy, a copy level): none.
    const xml::DiskBackup plain =
        copy_into(dir / "plain", first_id, {{source, "qcow2"}}, copy::CopySettings{});
    CHECK_FALSE(plain.block_sums);
    CHECK_FALSE(fs::exists(dir / "plain" / first_id / "vda.blocks"));
}

TEST_CASE("an incremental layer's block sums are its parent's with the blocks it holds replaced") {
    test::TempDir dir;
    const std::string base = make_qcow2(dir / "disk.qcow2");
    qemu_io(base, {"write -P 0x61 0 256k", "write -P 0x62 1M 128k"});
    const fs::path web = dir / "web";
    const xml::DiskBackup full = copy_into(web, first_id, {{base, "qcow2"}}, full_settings());
    const image::BlockSums parent = read_sums(web / first_id, full);

    SUBCASE("whole clusters: every sum known and right") {
        const std::string overlay = make_qcow2(dir / "overlay.qcow2", base);
        qemu_io(overlay, {"write -P 0x63 64k 64k", "write -z 1M 64k", "write -P 0x64 2M 4k"});
        const std::vector<copy::SourceImage> chain{{overlay, "qcow2"}, {base, "qcow2"}};
        const xml::DiskBackup layer = copy_into(web, second_id, chain, layer_settings(parent, false));
        REQUIRE(layer.block_sums);
        const image::BlockSums sums = read_sums(web / second_id, layer);
        CHECK(sums.unknown() == 0);
        CHECK(sums.digests() == disk_sums(chain).digests());
        CHECK(sums.digests()[1] != parent.digests()[1]);
        CHECK(sums.digests()[(1 << 20) / kib64] == 0);
    }
    SUBCASE("4 KiB clusters: a block held in part is unknown, the rest right") {
        const std::string overlay = make_qcow2(dir / "overlay.qcow2", base, "4096");
        qemu_io(overlay, {"write -P 0x63 68k 4k", "write -P 0x65 128k 64k"});
        const std::vector<copy::SourceImage> chain{{overlay, "qcow2"}, {base, "qcow2"}};
        const xml::DiskBackup layer = copy_into(web, second_id, chain, layer_settings(parent, false));
        REQUIRE(layer.block_sums);
        const image::BlockSums sums = read_sums(web / second_id, layer);
        const image::BlockSums expected = disk_sums(chain);
        CHECK(sums.unknown() == 1);
        CHECK(sums.digests()[1] == image::unknown_block_sum);
        CHECK(sums.digests()[2] == expected.digests()[2]);
        for (std::size_t i = 0; i < sums.digests().size(); ++i)
            if (i != 1)
                CHECK(sums.digests()[i] == expected.digests()[i]);
    }
    SUBCASE("a parent without block sums: the layer gets none") {
        const std::string overlay = make_qcow2(dir / "overlay.qcow2", base);
        qemu_io(overlay, {"write -P 0x63 64k 64k"});
        copy::CopySettings settings = layer_settings(parent, false);
        settings.block_sums_below = std::make_shared<const std::map<std::string, image::BlockSums>>();
        const xml::DiskBackup layer =
            copy_into(web, second_id, {{overlay, "qcow2"}, {base, "qcow2"}}, settings);
        CHECK_FALSE(layer.block_sums);
        CHECK_FALSE(fs::exists(web / second_id / "vda.blocks"));
    }
}

TEST_CASE("a copy by content writes exactly the blocks that differ, and the chain through it is the disk") {
    test::TempDir dir;
    const std::string disk = make_qcow2(dir / "disk.qcow2");
    qemu_io(disk, {"write -P 0x61 0 1M", "write -P 0x62 2M 512k"});
    const fs::path web = dir / "web";
    const xml::DiskBackup full = copy_into(web, first_id, {{disk, "qcow2"}}, full_settings());
    const image::BlockSums parent = read_sums(web / first_id, full);

    // Written by hand since (no change record knows it): one 4 KiB part,
    // a block zeroed, a block discarded, new data where there was none, and
    // a block written with what it already held.
    qemu_io(disk, {"write -P 0x63 4k 4k", "write -z 128k 64k", "discard 2M 64k", "write -P 0x64 3M 64k",
                   "write -P 0x61 512k 64k"});
    copy::CopySettings settings = layer_settings(parent, true);
    const xml::DiskBackup layer = copy_into(web, second_id, {{disk, "qcow2"}}, settings);
    REQUIRE(layer.files.size() == 1);
    CHECK(layer.files[0].backing_set == first_id);
    CHECK_FALSE(layer.flattened);

    // The disk, read through the layer and the full below it.
    const std::string top = (web / second_id / "vda.qcow2").string();
    CHECK(raw_content(top, "qcow2", dir / "a.raw") == raw_content(disk, "qcow2", dir / "b.raw"));
    // Only the four blocks that differ are in the layer, as data or zeros.
    const std::vector<image::Extent> map = image::query_image_map(top, "qcow2");
    std::uint64_t held = 0;
    for (const image::Extent& extent : map)
        if (extent.depth == 0 && (extent.data || extent.zero))
            held += extent.length;
    CHECK(held == 4 * kib64);
    CHECK(layer.files[0].data_bytes == 2 * kib64); // blocks 0 and 3M: non-zero content
    // Its sums are the disk's, all known.
    REQUIRE(layer.block_sums);
    const image::BlockSums sums = read_sums(web / second_id, layer);
    CHECK(sums.unknown() == 0);
    CHECK(sums.digests() == disk_sums({{disk, "qcow2"}}).digests());

    // Nothing changed since: an empty layer.
    const std::string third_id = "20261101-000000-000-0003";
    settings.incremental_parent = second_id;
    settings.block_sums_below = std::make_shared<const std::map<std::string, image::BlockSums>>(
        std::map<std::string, image::BlockSums>{{"vda", sums}});
    const xml::DiskBackup same = copy_into(web, third_id, {{disk, "qcow2"}}, settings);
    CHECK(same.files[0].data_bytes == 0);
    CHECK(raw_content((web / third_id / "vda.qcow2").string(), "qcow2", dir / "a.raw") ==
          raw_content(disk, "qcow2", dir / "b.raw"));
}

TEST_CASE("a copy by content compares with unknown blocks as differing") {
    test::TempDir dir;
    const std::string disk = make_qcow2(dir / "disk.qcow2");
    qemu_io(disk, {"write -P 0x61 0 256k"});
    const fs::path web = dir / "web";
    const xml::DiskBackup full = copy_into(web, first_id, {{disk, "qcow2"}}, full_settings());
    image::BlockSums parent = read_sums(web / first_id, full);
    parent.digests()[2] = image::unknown_block_sum;
    parent.digests()[40] = image::unknown_block_sum; // a hole now and then
    const xml::DiskBackup layer = copy_into(web, second_id, {{disk, "qcow2"}}, layer_settings(parent, true));
    const std::vector<image::Extent> map =
        image::query_image_map((web / second_id / "vda.qcow2").string(), "qcow2");
    std::uint64_t held = 0;
    for (const image::Extent& extent : map)
        if (extent.depth == 0 && (extent.data || extent.zero))
            held += extent.length;
    CHECK(held == 2 * kib64);
    CHECK(layer.files[0].data_bytes == kib64);
    CHECK(raw_content((web / second_id / "vda.qcow2").string(), "qcow2", dir / "a.raw") ==
          raw_content(disk, "qcow2", dir / "b.raw"));
}
