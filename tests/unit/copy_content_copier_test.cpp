#include "copy/content_copier.hpp"
#include "image/qcow2_file_writer.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>

using namespace virtsnap;

namespace {

// A disk held in memory: the reader serves guest offsets from it.
class MemoryReader : public copy::SourceReader {
  public:
    // uncached: as a reader past the page cache says it is, so the engine
    // finds zero blocks and hashes on the writing thread.
    explicit MemoryReader(std::string content, bool uncached = false)
        : content_(std::move(content)), uncached_(uncached) {}
    void read(const image::Extent&, std::uint64_t offset, char* buffer, std::uint64_t length) override {
        REQUIRE(offset + length <= content_.size());
        std::memcpy(buffer, content_.data() + offset, length);
        ++reads;
    }
    bool uncached() const override { return uncached_; }
    int reads = 0;

  private:
    std::string content_;
    bool uncached_;
};

// Records what the engine writes, and the image it would produce.
class MemoryWriter : public image::ImageWriter {
  public:
    explicit MemoryWriter(std::uint64_t size) : image(size, '\0') {}
    void write(const char* data, std::uint64_t length, std::uint64_t offset) override {
        writes[offset] = length;
        std::memcpy(image.data() + offset, data, length);
    }
    void write_zeroes(std::uint64_t length, std::uint64_t offset) override { zeroes[offset] = length; }
    void finish() override { finished = true; }
    std::string image;
    std::map<std::uint64_t, std::uint64_t> writes, zeroes;
    bool finished = false;
};

image::Extent data_extent(std::uint64_t start, std::uint64_t length) {
    image::Extent extent;
    extent.start = start;
    extent.length = length;
    extent.data = extent.present = true;
    extent.offset = start;
    return extent;
}

constexpr std::uint64_t MiB = 1 << 20;

std::string sample_disk() {
    std::string disk(8 * MiB, '\0');
    std::memset(&disk[0], 'a', 4096);                 // block 0
    std::memset(&disk[3 * MiB + 4096 * 3], 'b', 100); // a partial block in the middle
    std::memset(&disk[8 * MiB - 4096], 'c', 4096);    // the last block
    return disk;
}

struct Result {
    std::vector<xml::ChunkChecksum> chunks;
    std::string checksum;
    std::uint64_t data_bytes;
};

Result run_once(const copy::CopyPlan& plan, const std::string& disk, MemoryWriter* writer,
                std::uint64_t chunk, bool uncached) {
    MemoryReader reader(disk, uncached);
    image::ContentHasher hasher(disk.size(), chunk);
    copy::copy_content(plan, reader, writer, &hasher, nullptr);
    return {hasher.chunks(), hasher.checksum(), hasher.data_bytes()};
}

// The copy as the engine makes it reading through the page cache; the same
// copy, hashed on the writing thread as after a read past the cache, must
// write and hash exactly the same.
Result run(const copy::CopyPlan& plan, const std::string& disk, MemoryWriter* writer,
           std::uint64_t chunk = MiB) {
    const Result result = run_once(plan, disk, writer, chunk, false);
    if (writer) {
        MemoryWriter other(disk.size());
        const Result uncached = run_once(plan, disk, &other, chunk, true);
        CHECK(other.image == writer->image);
        CHECK(other.writes == writer->writes);
        CHECK(other.zeroes == writer->zeroes);
        CHECK(uncached.checksum == result.checksum);
        CHECK(uncached.data_bytes == result.data_bytes);
        CHECK(uncached.chunks.size() == result.chunks.size());
    }
    return result;
}

} // namespace

TEST_CASE("content hash: zeros are found, whatever their length") {
    std::string zeros(10000, '\0');
    CHECK(image::is_zero(zeros.data(), zeros.size()));
    CHECK(image::is_zero(zeros.data(), 3));
    zeros[9999] = 1;
    CHECK_FALSE(image::is_zero(zeros.data(), zeros.size()));
    zeros[9999] = 0;
    zeros[5] = 1;
    CHECK_FALSE(image::is_zero(zeros.data(), zeros.size()));
}

TEST_CASE("copy engine: the checksums depend on the content, not on how it is stored") {
    const std::string disk = sample_disk();
    copy::CopyPlan whole;
    whole.virtual_size = disk.size();
    whole.data = {data_extent(0, disk.size())}; // a raw block device: all "data"
    copy::CopyPlan sparse;
    sparse.virtual_size = disk.size();
    sparse.data = {data_extent(0, 64 * 1024), data_extent(3 * MiB, 64 * 1024),
                   data_extent(8 * MiB - 65536, 65536)}; // a sparse file: data around the content only
    Result a = run(whole, disk, nullptr);
    Result b = run(sparse, disk, nullptr);
    CHECK(a.checksum == b.checksum);
    REQUIRE(a.chunks.size() == 3); // chunks 0, 3 and 7 of 1 MiB; the others are all zeros
    CHECK(a.chunks[0].offset == 0);
    CHECK(a.chunks[1].offset == 3 * MiB);
    CHECK(a.chunks[2].offset == 7 * MiB);
    CHECK(a.data_bytes == 3 * 4096);
    for (size_t i = 0; i < a.chunks.size(); ++i)
        CHECK(a.chunks[i].hash == b.chunks[i].hash);
}

TEST_CASE("copy engine: one changed byte changes its chunk and the whole checksum only") {
    std::string disk = sample_disk();
    copy::CopyPlan plan;
    plan.virtual_size = disk.size();
    plan.data = {data_extent(0, disk.size())};
    Result before = run(plan, disk, nullptr);
    disk[3 * MiB + 4096 * 3 + 7] ^= 0x20;
    Result after = run(plan, disk, nullptr);
    CHECK(before.checksum != after.checksum);
    REQUIRE(after.chunks.size() == 3);
    CHECK(before.chunks[0].hash == after.chunks[0].hash);
    CHECK(before.chunks[1].hash != after.chunks[1].hash);
    CHECK(before.chunks[2].hash == after.chunks[2].hash);
}

TEST_CASE("copy engine: a flattened copy writes the non-zero blocks only, and the same content") {
    const std::string disk = sample_disk();
    copy::CopyPlan plan;
    plan.virtual_size = disk.size();
    plan.data = {data_extent(0, disk.size())};
    MemoryWriter writer(disk.size());
    run(plan, disk, &writer);
    CHECK(writer.finished);
    CHECK(writer.image == disk);
    std::uint64_t written = 0;
    for (const auto& [offset, length] : writer.writes)
        written += length;
    CHECK(written == 3 * 4096);
    CHECK(writer.zeroes.empty());
}

TEST_CASE("copy engine: compressed qcow2 gets whole clusters") {
    const std::string disk = sample_disk();
    copy::CopyPlan plan;
    plan.virtual_size = disk.size();
    plan.data = {data_extent(0, disk.size())};
    plan.write_unit = 65536;
    MemoryWriter writer(disk.size());
    run(plan, disk, &writer);
    CHECK(writer.image == disk);
    for (const auto& [offset, length] : writer.writes) {
        CHECK(offset % 65536 == 0);
        CHECK(length % 65536 == 0);
    }
}

TEST_CASE("copy engine: a layer over a backing image writes its zeros too") {
    const std::string disk = sample_disk();
    std::vector<image::Extent> map;
    map.push_back(data_extent(0, 2 * MiB));
    image::Extent zero_cluster;
    zero_cluster.start = 2 * MiB;
    zero_cluster.length = MiB;
    zero_cluster.zero = zero_cluster.present = true;
    map.push_back(zero_cluster);
    image::Extent below = data_extent(3 * MiB, 5 * MiB);
    below.depth = 1; // the backing image's: not this layer's to copy
    map.push_back(below);

    copy::CopyPlan plan = copy::plan_layer(map, disk.size(), true);
    MemoryWriter writer(disk.size());
    run(plan, disk, &writer);
    CHECK(writer.writes.size() == 1);
    CHECK(writer.writes.at(0) == 2 * MiB); // the zero blocks of the data extent included
    CHECK(writer.zeroes.at(2 * MiB) == MiB);

    copy::CopyPlan bottom = copy::plan_layer(map, disk.size(), false);
    CHECK(bottom.zeroes.empty());
    CHECK(bottom.data.size() == 1);
}

TEST_CASE("copy engine: a layer whose writer has zero clusters stores whole clusters of zeros as them") {
    std::string disk = sample_disk();
    std::memset(&disk[MiB + 4096], 'd', 10); // inside the cluster at 1 MiB
    std::vector<image::Extent> map{data_extent(0, 2 * MiB), data_extent(3 * MiB, MiB + 65536)};
    copy::CopyPlan plan = copy::plan_layer(map, disk.size(), true);
    plan.zero_clusters = 65536;
    MemoryWriter writer(disk.size());
    const Result with = run(plan, disk, &writer);
    // Data: the clusters holding 'a' and 'd', and the one holding 'b'
    // (3 MiB + 12 KiB); every other cluster of the extents is a zero write.
    CHECK(writer.writes ==
          std::map<std::uint64_t, std::uint64_t>{{0, 65536}, {MiB, 65536}, {3 * MiB, 65536}});
    // (One write per 2 MiB window of the engine.)
    CHECK(writer.zeroes == std::map<std::uint64_t, std::uint64_t>{{65536, MiB - 65536},
                                                                  {MiB + 65536, MiB - 65536},
                                                                  {3 * MiB + 65536, MiB - 65536},
                                                                  {4 * MiB, 65536}});
    CHECK(writer.image.substr(0, 4 * MiB + 65536) == disk.substr(0, 4 * MiB + 65536));
    // The checksums are those of the content, however the zeros are stored.
    plan.zero_clusters = 0;
    MemoryWriter plain(disk.size());
    CHECK(run(plan, disk, &plain).checksum == with.checksum);
    CHECK(plain.zeroes.empty());
}

TEST_CASE("copy engine: a layer with zero clusters over a backing image reads, through QEMU, as the disk") {
    test::TempDir dir;
    const std::string base = (dir / "base.qcow2").string();
    const std::string disk = sample_disk(); // 8 MiB, mostly zeros
    util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", base, "8M"});
    util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 8M", base});
    // Hashed on the reading thread, and on the writing one.
    for (const bool uncached : {false, true}) {
        CAPTURE(uncached);
        const std::string name = uncached ? "uncached" : "cached";
        const std::string layer = (dir / (name + ".qcow2")).string();
        image::Qcow2Layout layout;
        layout.virtual_size = disk.size();
        layout.cluster_size = 65536;
        layout.backing = "base.qcow2";
        layout.backing_format = "qcow2";
        util::UniqueFd fd(::open(layer.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        REQUIRE(fd);
        image::Qcow2FileWriter writer(std::move(fd), layer, layout);
        // The layer holds the whole disk: every zero must hide the backing.
        copy::CopyPlan plan = copy::plan_layer({data_extent(0, disk.size())}, disk.size(), true);
        plan.zero_clusters = layout.cluster_size;
        MemoryReader reader(disk, uncached);
        copy::copy_content(plan, reader, &writer, nullptr, nullptr);
        util::run_checked({"qemu-img", "check", "-q", "-f", "qcow2", layer});
        const std::string raw = (dir / (name + ".raw")).string();
        util::run_checked({"qemu-img", "convert", "-f", "qcow2", "-O", "raw", layer, raw});
        CHECK(test::read_file(raw) == disk);
        // Three clusters of data (blocks 'a', 'b', 'c') and the metadata, not
        // 8 MiB of zeros.
        CHECK(std::filesystem::file_size(layer) <= 8 * 65536);
    }
}

TEST_CASE(
    "copy engine: a changed cluster holding a raw source's 4 KiB hole, zero clusters on, reads as the disk") {
    // Seen in CI (backup-content-inc): an inc by content of a raw disk whose
    // guest had trimmed 4 KiB inside a changed block. The hole's zeros went
    // to the writer before the data of their cluster, and the writer took
    // part of an unwritten cluster for an internal error.
    test::TempDir dir;
    const std::string base = (dir / "base.qcow2").string();
    const std::string layer = (dir / "layer.qcow2").string();
    std::string disk = sample_disk();
    util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", base, "8M"});
    util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 8M", base});
    const std::uint64_t cluster = 65536;
    std::vector<image::Extent> map;
    map.push_back(data_extent(0, cluster + 4096));
    image::Extent hole;
    hole.start = cluster + 4096;
    hole.length = 4096;
    hole.zero = true;
    map.push_back(hole);
    map.push_back(data_extent(cluster + 8192, disk.size() - cluster - 8192));
    for (std::uint64_t i = 0; i < disk.size(); ++i)
        if (i < cluster + 4096 || i >= cluster + 8192)
            disk[i] = static_cast<char>('a' + i % 7);
        else
            disk[i] = '\0';
    const std::vector<image::Extent> changed =
        copy::whole_clusters({data_extent(cluster, 1)}, cluster, disk.size());
    copy::CopyPlan plan = copy::plan_changed(map, changed, disk.size());
    plan.zero_clusters = cluster;
    REQUIRE(plan.zeroes.size() == 1);
    CHECK(plan.zeroes[0].start == cluster + 4096);

    image::Qcow2Layout layout;
    layout.virtual_size = disk.size();
    layout.cluster_size = cluster;
    layout.backing = "base.qcow2";
    layout.backing_format = "qcow2";
    util::UniqueFd fd(::open(layer.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    REQUIRE(fd);
    image::Qcow2FileWriter writer(std::move(fd), layer, layout);
    MemoryReader reader(disk);
    copy::copy_content(plan, reader, &writer, nullptr, nullptr);
    util::run_checked({"qemu-img", "check", "-q", "-f", "qcow2", layer});
    const std::string raw = (dir / "layer.raw").string();
    util::run_checked({"qemu-img", "convert", "-f", "qcow2", "-O", "raw", layer, raw});
    std::string expected(disk.size(), '\xab'); // the backing shows outside the changed cluster
    expected.replace(cluster, cluster, disk, cluster, cluster);
    CHECK(test::read_file(raw) == expected);
}

TEST_CASE("copy engine: a diff layer holds every changed range as the whole chain reads there") {
    const std::string disk = sample_disk();
    std::vector<image::Extent> map;
    image::Extent top = data_extent(0, MiB); // the kept overlay's own data
    map.push_back(top);
    image::Extent hole; // read as zeros through the whole chain
    hole.start = MiB;
    hole.length = MiB;
    hole.zero = true;
    map.push_back(hole);
    image::Extent below = data_extent(2 * MiB, 6 * MiB);
    below.depth = 1; // the own image, where earlier incs' changes landed
    below.offset = 2 * MiB;
    map.push_back(below);
    // Ranges earlier sets changed: one inside the hole, one inside the
    // image below, overlapping and touching ones merged.
    std::vector<image::Extent> changed{data_extent(3 * MiB, MiB), data_extent(MiB, 12288),
                                       data_extent(3 * MiB + 4096, MiB), data_extent(0, MiB)};
    changed = copy::merged_ranges(changed);
    REQUIRE(changed.size() == 2);
    CHECK(changed[0].start == 0);
    CHECK(changed[0].length == MiB + 12288);
    CHECK(changed[1].start == 3 * MiB);
    CHECK(changed[1].length == MiB + 4096);

    copy::CopyPlan plan = copy::plan_changed(map, changed, disk.size());
    CHECK(plan.write_zero_blocks);
    REQUIRE(plan.data.size() == 2);
    CHECK(plan.data[0].start == 0);
    CHECK(plan.data[0].length == MiB);
    CHECK(plan.data[1].start == 3 * MiB);
    CHECK(plan.data[1].length == MiB + 4096);
    CHECK(plan.data[1].depth == 1);
    CHECK(*plan.data[1].offset == 3 * MiB); // moved along with the start
    REQUIRE(plan.zeroes.size() == 1);
    CHECK(plan.zeroes[0].start == MiB);
    CHECK(plan.zeroes[0].length == 12288);
    // Nothing outside the changed ranges is read or written.
    CHECK(plan.data_length() == 2 * MiB + 4096);
}

TEST_CASE("content hash: blocks out of order are an internal error") {
    image::ContentHasher hasher(MiB, MiB);
    std::string block(4096, 'x');
    hasher.add_block(8192, block.data(), block.size());
    CHECK_THROWS_AS(hasher.add_block(4096, block.data(), block.size()), util::Error);
    CHECK_THROWS_AS(hasher.add_block(12345, block.data(), block.size()), util::Error);
}

TEST_CASE(
    "copy engine: changed ranges widen to whole clusters of the layer, the last cut at the disk's end") {
    const std::vector<image::Extent> ranges =
        copy::whole_clusters({data_extent(3 * MiB + 4096, 65536), data_extent(0, 4096),
                              data_extent(2 * MiB - 1, 2), data_extent(8 * MiB - 100, 100)},
                             2 * MiB, 8 * MiB - 10);
    REQUIRE(ranges.size() == 2);
    CHECK(ranges[0].start == 0);
    CHECK(ranges[0].length == 4 * MiB); // 0-2 MiB, 2-4 MiB touching, merged
    CHECK(ranges[1].start == 6 * MiB);
    CHECK(ranges[1].length == 2 * MiB - 10);
}
