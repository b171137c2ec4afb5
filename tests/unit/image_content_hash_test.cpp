// The checksums recorded in a backup must still verify years later, built
// by another compiler on another CPU: the definition is pinned here by
// known values.

#include "image/content_hash.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace virtsnap;

namespace {

// A 3 MiB disk with 1 MiB chunks: block 0 all 0x01, block 300 holding text,
// the last block 0xff; everything else zeros.
std::string pinned_checksums(std::string& chunk_list) {
    const std::uint64_t size = 3ULL << 20;
    image::ContentHasher hasher(size, 1ULL << 20);
    std::string first(4096, '\x01');
    std::string text(4096, '\0');
    text.replace(0, 8, "virtsnap");
    std::string last(4096, '\xff');
    hasher.add_block(0, first.data(), first.size());
    hasher.add_block(300 * 4096, text.data(), text.size());
    hasher.add_block(size - 4096, last.data(), last.size());
    hasher.finish();
    for (const xml::ChunkChecksum& chunk : hasher.chunks())
        chunk_list += std::to_string(chunk.offset) + "=" + chunk.hash + "\n";
    CHECK(hasher.data_bytes() == 3 * 4096);
    return hasher.checksum();
}

} // namespace

TEST_CASE("content checksums keep their pinned values (XXH3-128 over numbered non-zero blocks)") {
    std::string chunks;
    const std::string whole = pinned_checksums(chunks);
    // Computed once with libxxhash's baseline code and with its AVX2 dispatch
    // (identical, as XXH3 promises); a change here breaks every stored backup.
    CHECK(chunks == "0=xxh3-128:29fd9c5897761141f991ce1128934f2c\n"
                    "1048576=xxh3-128:2046898ecf2793f72c6cf68d7199dd02\n"
                    "2097152=xxh3-128:3506c9f3a9d59985675983b4788c6d8a\n");
    CHECK(whole == "xxh3-128:6543835b7cdbf88a1dc65fdc9f258ef1");
}

TEST_CASE("zero blocks are not content: a disk of zeros has no chunks") {
    image::ContentHasher hasher(1ULL << 20, 1ULL << 20);
    hasher.finish();
    CHECK(hasher.chunks().empty());
    CHECK(hasher.data_bytes() == 0);
    CHECK(image::is_zero(std::string(4096, '\0').data(), 4096));
    CHECK_FALSE(image::is_zero((std::string(4095, '\0') + "x").data(), 4096));
}
