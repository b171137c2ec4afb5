// Block sums: one digest per 64 KiB block of a disk, defined on content
// (zero parts left out, every part by its place), kept in a file that is
// read back as hostile input.

#include "image/block_sums.hpp"

#include "util/error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace virtsnap;

namespace {

constexpr std::uint64_t kib64 = image::block_sum_size;

std::string part(char fill) {
    return std::string(4096, fill);
}

// The sums of a disk of size bytes whose only non-zero 4 KiB parts are
// parts (offset, fill), added in order.
image::BlockSums sums_of(std::uint64_t size, const std::vector<std::pair<std::uint64_t, char>>& parts) {
    image::BlockSumsBuilder builder(size);
    for (const auto& [offset, fill] : parts) {
        const std::string data = part(fill);
        builder.add_block(offset, data.data(), std::min<std::uint64_t>(4096, size - offset));
    }
    return builder.finish();
}

} // namespace

TEST_CASE("block sums keep their pinned value (XXH3-64 of each block's sixteen part digests)") {
    const image::BlockSums sums = sums_of(3 * kib64, {{0, '\x01'}, {kib64 + 8192, 'v'}});
    REQUIRE(sums.digests().size() == 3);
    // A change here makes every kept .blocks file useless (each run would
    // copy every block again): computed once and pinned.
    CHECK(sums.digests()[0] == 0xce256016015350c8ULL);
    CHECK(sums.digests()[1] == 0x7146bafc6ef771d5ULL);
    CHECK(sums.digests()[2] == 0);
}

TEST_CASE("a block's digest is its content at its place: zero is 0, a part elsewhere is another digest") {
    const std::uint64_t size = 4 * kib64;
    const image::BlockSums zeros = sums_of(size, {});
    for (std::uint64_t digest : zeros.digests())
        CHECK(digest == 0);
    const image::BlockSums a = sums_of(size, {{kib64, 'a'}});
    const image::BlockSums moved_in_block = sums_of(size, {{kib64 + 4096, 'a'}});
    const image::BlockSums moved_block = sums_of(size, {{2 * kib64, 'a'}});
    const image::BlockSums other = sums_of(size, {{kib64, 'b'}});
    CHECK(a.digests()[1] != 0);
    CHECK(a.digests()[1] != image::unknown_block_sum);
    CHECK(a.digests()[1] != moved_in_block.digests()[1]);
    CHECK(a.digests()[1] != other.digests()[1]);
    CHECK(moved_block.digests()[2] != a.digests()[1]);
    // The same content gives the same digest, however it was added.
    CHECK(sums_of(size, {{kib64, 'a'}}).digests() == a.digests());
}

TEST_CASE("differing blocks: changed and unknown ones, touching ones merged, the last cut at the end") {
    const std::uint64_t size = 5 * kib64 + 4096; // six blocks, the last 4 KiB
    image::BlockSums before = sums_of(size, {{0, 'a'}, {kib64, 'b'}, {5 * kib64, 'z'}});
    image::BlockSums now = sums_of(size, {{0, 'a'}, {kib64, 'c'}, {2 * kib64, 'd'}, {5 * kib64, 'y'}});
    before.digests()[4] = image::unknown_block_sum;
    const std::vector<image::Extent> ranges = image::differing_blocks(now, before);
    REQUIRE(ranges.size() == 2);
    CHECK(ranges[0].start == kib64);
    CHECK(ranges[0].length == 2 * kib64);
    CHECK(ranges[1].start == 4 * kib64);
    CHECK(ranges[1].length == kib64 + 4096);
    CHECK(image::differing_blocks(now, now).empty());
    // Unknown never matches, not even itself.
    image::BlockSums unknown = now;
    unknown.digests()[0] = image::unknown_block_sum;
    CHECK(image::differing_blocks(unknown, unknown).size() == 1);
    CHECK(unknown.unknown() == 1);
}

TEST_CASE(
    "a layer's sums: its parent's, the blocks it holds whole computed, those it holds in part unknown") {
    const std::uint64_t size = 4 * kib64;
    const image::BlockSums parent =
        sums_of(size, {{0, 'a'}, {kib64, 'b'}, {2 * kib64, 'c'}, {3 * kib64, 'd'}});
    // The layer holds block 1 whole (data, then zeros) and 4 KiB of block 3.
    image::Extent data;
    data.start = kib64;
    data.length = 8192;
    image::Extent zeros;
    zeros.start = kib64 + 8192;
    zeros.length = kib64 - 8192;
    image::Extent part_of_3;
    part_of_3.start = 3 * kib64;
    part_of_3.length = 4096;
    image::BlockSumsBuilder builder(parent, {part_of_3, data, zeros});
    const std::string e = part('e');
    builder.add_block(kib64 + 4096, e.data(), e.size());
    builder.add_block(3 * kib64, e.data(), e.size()); // in a block held in part: not used
    const image::BlockSums layer = builder.finish();
    CHECK(layer.digests()[0] == parent.digests()[0]);
    CHECK(layer.digests()[1] == sums_of(size, {{kib64 + 4096, 'e'}}).digests()[1]);
    CHECK(layer.digests()[2] == parent.digests()[2]);
    CHECK(layer.digests()[3] == image::unknown_block_sum);

    // A block the layer holds whole with nothing but zeros in it is zero.
    image::Extent whole;
    whole.start = 2 * kib64;
    whole.length = kib64;
    CHECK(image::BlockSumsBuilder(parent, {whole}).finish().digests()[2] == 0);
    // The disk's last block is whole at the disk's end.
    const std::uint64_t odd = kib64 + 512;
    image::Extent tail;
    tail.start = kib64;
    tail.length = 512;
    const image::BlockSums odd_parent = sums_of(odd, {{0, 'a'}, {kib64, 'b'}});
    CHECK(image::BlockSumsBuilder(odd_parent, {tail}).finish().digests()[1] == 0);
}

TEST_CASE("block sums files round-trip; damaged ones are refused, saying why") {
    const std::uint64_t size = 3 * kib64 + 4096;
    const image::BlockSums sums = sums_of(size, {{0, 'a'}, {3 * kib64, 'q'}});
    const std::string bytes = sums.serialize();
    CHECK(bytes.size() == image::block_sums_file_size(size));
    CHECK(bytes.size() == 32 + 4 * 8);
    CHECK(image::BlockSums::parse(bytes, size, "f").digests() == sums.digests());

    auto refused = [&](std::string damaged, std::uint64_t expected_size, const std::string& why) {
        CAPTURE(why);
        try {
            image::BlockSums::parse(damaged, expected_size, "block sums file 'x'");
            FAIL("accepted");
        } catch (const util::InputError& error) {
            CHECK(std::string(error.what()).find(why) != std::string::npos);
        }
    };
    std::string magic = bytes;
    magic[0] = 'X';
    refused(magic, size, "not a block sums file");
    refused("", size, "not a block sums file");
    refused(bytes.substr(0, 20), size, "not a block sums file");
    std::string version = bytes;
    version[8] = 2;
    refused(version, size, "format version 2");
    std::string block_size = bytes;
    block_size[13] = 0x20; // 8192
    block_size[14] = 0;
    refused(block_size, size, "block size 8192");
    refused(bytes, size + 1, "is of a disk of");
    std::string count = bytes;
    count[24] = 9;
    refused(count, size, "holds 9 blocks");
    std::string huge = bytes;
    huge[31] = '\x7f';
    refused(huge, size, "blocks, not the 4");
    refused(bytes.substr(0, bytes.size() - 1), size, "truncated");
    refused(bytes + "x", size, "bytes long");
}

TEST_CASE("the file's checksum is XXH3-128 in the manifest's notation") {
    const std::string checksum = image::block_sums_checksum("abc");
    CHECK(checksum.rfind("xxh3-128:", 0) == 0);
    CHECK(checksum.size() == 9 + 32);
    CHECK(checksum != image::block_sums_checksum("abd"));
}
