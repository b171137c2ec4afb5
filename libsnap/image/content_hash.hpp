#pragma once
// The checksums virtsnap records for a disk's content: XXH3-128 per
// fixed-size chunk and one for the whole disk, computed while the content is
// copied (no second read) and recomputed by virtsnap-verify from the backup
// alone.
//
// They are defined on the content, not on how it is stored: the disk is cut
// into 4 KiB blocks, blocks that are all zeros are left out, and each other
// block enters its chunk's hash as its block number (8 bytes, little-endian)
// followed by its bytes. A hole, a zero cluster and a written block of zeros
// therefore hash alike, so a raw copy, a qcow2 copy and a compressed copy of
// one disk carry the same checksums, and holes cost nothing to hash. The
// whole-disk checksum hashes each listed chunk's offset and checksum, then
// the virtual size.

#include "image/block_sums.hpp"
#include "xml/manifest.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace virtsnap::image {

constexpr std::uint64_t hash_block_size = 4096;
constexpr std::uint64_t default_chunk_size = 64ULL << 20;

// "xxh3-128:" and the hex digits of XXH3-128 over bytes, as checksums are
// written in manifests.
std::string xxh128_text(const std::string& bytes);

// True when the len bytes at data are all zero.
bool is_zero(const char* data, std::size_t len) noexcept;

class ContentHasher {
  public:
    ContentHasher(std::uint64_t virtual_size, std::uint64_t chunk_size);
    ~ContentHasher();
    ContentHasher(const ContentHasher&) = delete;
    ContentHasher& operator=(const ContentHasher&) = delete;

    // Adds the non-zero block that starts at offset (a multiple of 4 KiB;
    // len is 4 KiB, or less for the disk's last block). Blocks come in
    // increasing order; zero blocks are simply not added.
    void add_block(std::uint64_t offset, const char* data, std::size_t len);

    // Every block added from now on goes to sums too (image/block_sums.hpp:
    // what a backup set keeps beside a disk's image). only: nothing else is
    // computed (a read that only compares block sums); data_bytes() still
    // counts. sums must outlive the hasher's use.
    void set_block_sums(BlockSumsBuilder* sums, bool only = false) noexcept {
        block_sums_ = sums;
        only_block_sums_ = only;
    }

    // Ends the last chunk; the results below are valid afterwards.
    void finish();

    const std::vector<xml::ChunkChecksum>& chunks() const noexcept { return chunks_; }
    const std::string& checksum() const noexcept { return checksum_; }
    std::uint64_t data_bytes() const noexcept { return data_bytes_; }
    std::uint64_t chunk_size() const noexcept { return chunk_size_; }

  private:
    struct State;
    void close_chunk();

    std::uint64_t virtual_size_;
    std::uint64_t chunk_size_;
    std::unique_ptr<State> state_;
    BlockSumsBuilder* block_sums_ = nullptr;
    bool only_block_sums_ = false;
    bool chunk_open_ = false;
    std::uint64_t chunk_offset_ = 0;
    std::uint64_t next_offset_ = 0;
    std::uint64_t data_bytes_ = 0;
    std::vector<xml::ChunkChecksum> chunks_;
    std::string checksum_;
};

} // namespace virtsnap::image
