#pragma once
// Block sums: one 64-bit digest per 64 KiB block of a disk as it was at a
// backup set (the whole disk, the sets below an incremental layer read
// through), kept beside the set's image as TARGET.blocks. A run that cannot
// trust the change record reads the disk, compares its sums with the
// previous set's and copies only the blocks that differ (job/backup_level).
//
// Like the content checksums (image/content_hash.hpp) they are defined on
// content, not storage: a block's digest is XXH3-64, seeded with the block's
// number, over its sixteen 4 KiB parts, each given as 8 bytes
// (little-endian): XXH3-64 of the part's bytes, or 0 for a part of zeros.
// An all-zero block is 0; `unknown_block_sum` means "not known" and never
// matches (a computed digest that would be 0 or unknown is moved by one).
//
// The file: "VSNAPBLK", version (u32), block size (u32), the disk's virtual
// size (u64), the number of blocks (u64), then each block's digest (u64),
// all little-endian: 32 bytes and 1/8192 of the disk.

#include "image/image_map.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace virtsnap::image {

constexpr std::uint64_t block_sum_size = 64ULL << 10;
constexpr std::uint64_t unknown_block_sum = ~0ULL;

// The number of blocks of a disk of virtual_size bytes (the last one may be
// shorter).
std::uint64_t block_sum_count(std::uint64_t virtual_size) noexcept;
// The size of the file of a disk of virtual_size bytes.
std::uint64_t block_sums_file_size(std::uint64_t virtual_size) noexcept;

class BlockSums {
  public:
    BlockSums() = default;
    // Every block zero.
    explicit BlockSums(std::uint64_t virtual_size);

    std::uint64_t virtual_size() const noexcept { return virtual_size_; }
    const std::vector<std::uint64_t>& digests() const noexcept { return digests_; }
    std::vector<std::uint64_t>& digests() noexcept { return digests_; }
    // Blocks whose digest is unknown.
    std::uint64_t unknown() const noexcept;

    // The file's bytes.
    std::string serialize() const;
    // Reads a file's bytes as hostile input: InputError naming what (magic,
    // version, block size, a size other than virtual_size, a count or
    // length that does not fit).
    static BlockSums parse(const std::string& bytes, std::uint64_t virtual_size, const std::string& what);

  private:
    std::uint64_t virtual_size_ = 0;
    std::vector<std::uint64_t> digests_;
};

// The blocks whose digests differ between now and before (of the same
// virtual size), or are unknown in either, as ranges in order, touching
// ones merged, the last cut at the disk's end.
std::vector<Extent> differing_blocks(const BlockSums& now, const BlockSums& before);

// "xxh3-128:<hex>" of bytes: how a manifest records the file.
std::string block_sums_checksum(const std::string& bytes);

// Computes block sums from the non-zero 4 KiB blocks of a copy, as the copy
// engine hashes them (ContentHasher::set_block_sums): in increasing order,
// each at most once; a block never added is zero.
class BlockSumsBuilder {
  public:
    // A standalone copy of the disk: every block from what is added.
    explicit BlockSumsBuilder(std::uint64_t virtual_size);
    // A layer on an image whose sums are below: the blocks that the sorted
    // ranges of covered (what the layer holds) cover whole are computed from
    // what is added; a block they cover in part is unknown; every other
    // keeps below's digest.
    BlockSumsBuilder(BlockSums below, const std::vector<Extent>& covered);

    // offset: a multiple of 4 KiB; len: 4 KiB, or less for the disk's last block.
    void add_block(std::uint64_t offset, const char* data, std::size_t len);
    // The sums; the builder is spent.
    BlockSums finish();

  private:
    void close_block();

    BlockSums sums_;
    std::vector<bool> fresh_; // computed here
    bool open_ = false;
    std::uint64_t block_ = 0;
    std::array<std::uint64_t, block_sum_size / 4096> parts_{};
};

} // namespace virtsnap::image
