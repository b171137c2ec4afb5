#include "image/block_sums.hpp"

#include "image/content_hash.hpp"
#include "util/error.hpp"

#include <xxhash.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xxh_x86dispatch.h>
#endif

#include <algorithm>
#include <cstring>

namespace virtsnap::image {

using util::InputError;

namespace {

constexpr char magic[8] = {'V', 'S', 'N', 'A', 'P', 'B', 'L', 'K'};
constexpr std::uint32_t format_version = 1;
constexpr std::uint64_t header_size = 32;
constexpr std::uint64_t part_size = 4096;

void put_le(std::string& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i)
        out += static_cast<char>(static_cast<unsigned char>(value >> (8 * i)));
}

std::uint64_t get_le(const std::string& in, std::size_t at, int bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i)
        value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + static_cast<std::size_t>(i)]))
                 << (8 * i);
    return value;
}

} // namespace

std::uint64_t block_sum_count(std::uint64_t virtual_size) noexcept {
    return virtual_size / block_sum_size + (virtual_size % block_sum_size != 0 ? 1 : 0);
}

std::uint64_t block_sums_file_size(std::uint64_t virtual_size) noexcept {
    return header_size + 8 * block_sum_count(virtual_size);
}

BlockSums::BlockSums(std::uint64_t virtual_size)
    : virtual_size_(virtual_size), digests_(block_sum_count(virtual_size), 0) {}

std::uint64_t BlockSums::unknown() const noexcept {
    return static_cast<std::uint64_t>(std::count(digests_.begin(), digests_.end(), unknown_block_sum));
}

std::string BlockSums::serialize() const {
    std::string out(magic, sizeof magic);
    out.reserve(block_sums_file_size(virtual_size_));
    put_le(out, format_version, 4);
    put_le(out, block_sum_size, 4);
    put_le(out, virtual_size_, 8);
    put_le(out, digests_.size(), 8);
    for (std::uint64_t digest : digests_)
        put_le(out, digest, 8);
    return out;
}

BlockSums BlockSums::parse(const std::string& bytes, std::uint64_t virtual_size, const std::string& what) {
    if (bytes.size() < header_size || std::memcmp(bytes.data(), magic, sizeof magic) != 0)
        throw InputError(what + " is not a block sums file (no VSNAPBLK header)");
    const std::uint64_t version = get_le(bytes, 8, 4);
    if (version != format_version)
        throw InputError(what + ": format version " + std::to_string(version) +
                         " is not supported (this virtsnap reads 1)");
    const std::uint64_t block_size = get_le(bytes, 12, 4);
    if (block_size != block_sum_size)
        throw InputError(what + ": block size " + std::to_string(block_size) + " is not " +
                         std::to_string(block_sum_size));
    const std::uint64_t size = get_le(bytes, 16, 8);
    if (size != virtual_size)
        throw InputError(what + " is of a disk of " + std::to_string(size) + " bytes, not of " +
                         std::to_string(virtual_size));
    const std::uint64_t count = get_le(bytes, 24, 8);
    if (count != block_sum_count(virtual_size))
        throw InputError(what + " holds " + std::to_string(count) + " blocks, not the " +
                         std::to_string(block_sum_count(virtual_size)) + " of its disk");
    if (bytes.size() != block_sums_file_size(virtual_size))
        throw InputError(what + " is " + std::to_string(bytes.size()) + " bytes long, not " +
                         std::to_string(block_sums_file_size(virtual_size)) + " (truncated?)");
    BlockSums sums(virtual_size);
    for (std::size_t i = 0; i < sums.digests_.size(); ++i)
        sums.digests_[i] = get_le(bytes, header_size + 8 * i, 8);
    return sums;
}

std::vector<Extent> differing_blocks(const BlockSums& now, const BlockSums& before) {
    if (now.virtual_size() != before.virtual_size())
        throw util::Error("internal error: block sums of disks of different sizes compared");
    std::vector<Extent> ranges;
    const std::vector<std::uint64_t>& a = now.digests();
    const std::vector<std::uint64_t>& b = before.digests();
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] == b[i] && a[i] != unknown_block_sum)
            continue;
        const std::uint64_t start = i * block_sum_size;
        const std::uint64_t end = std::min(start + block_sum_size, now.virtual_size());
        if (!ranges.empty() && ranges.back().end() == start) {
            ranges.back().length = end - ranges.back().start;
            continue;
        }
        Extent range;
        range.start = start;
        range.length = end - start;
        ranges.push_back(range);
    }
    return ranges;
}

std::string block_sums_checksum(const std::string& bytes) {
    return xxh128_text(bytes);
}

BlockSumsBuilder::BlockSumsBuilder(std::uint64_t virtual_size)
    : sums_(virtual_size), fresh_(sums_.digests().size(), true) {}

BlockSumsBuilder::BlockSumsBuilder(BlockSums below, const std::vector<Extent>& covered)
    : sums_(std::move(below)), fresh_(sums_.digests().size(), false) {
    std::vector<std::uint64_t>& digests = sums_.digests();
    const std::uint64_t size = sums_.virtual_size();
    // How much of each block the ranges cover (a layer's data and zero
    // ranges come apart; overlapping ones are counted once).
    std::vector<Extent> ranges = covered;
    std::sort(ranges.begin(), ranges.end(),
              [](const Extent& a, const Extent& b) { return a.start < b.start; });
    std::vector<std::uint64_t> held(digests.size(), 0);
    std::uint64_t counted_to = 0;
    for (const Extent& range : ranges) {
        const std::uint64_t end = std::min(range.end(), size);
        for (std::uint64_t at = std::max(range.start, counted_to); at < end;) {
            const std::uint64_t block = at / block_sum_size;
            const std::uint64_t next = std::min((block + 1) * block_sum_size, end);
            held[block] += next - at;
            at = next;
        }
        counted_to = std::max(counted_to, end);
    }
    for (std::size_t i = 0; i < digests.size(); ++i) {
        if (held[i] == 0)
            continue;
        const std::uint64_t length = std::min(block_sum_size, size - i * block_sum_size);
        if (held[i] >= length) {
            digests[i] = 0;
            fresh_[i] = true;
        } else {
            digests[i] = unknown_block_sum;
        }
    }
}

void BlockSumsBuilder::add_block(std::uint64_t offset, const char* data, std::size_t len) {
    const std::uint64_t block = offset / block_sum_size;
    if (block >= fresh_.size() || offset % part_size != 0 || len == 0 || len > part_size ||
        (open_ && block < block_))
        throw util::Error("internal error: block sum part at " + std::to_string(offset) +
                          " out of order or misaligned");
    if (!fresh_[block])
        return; // a block the layer holds in part: unknown; or not in the layer at all
    if (open_ && block != block_)
        close_block();
    if (!open_) {
        parts_.fill(0);
        open_ = true;
        block_ = block;
    }
    parts_[(offset % block_sum_size) / part_size] = XXH3_64bits(data, len);
}

void BlockSumsBuilder::close_block() {
    unsigned char bytes[sizeof parts_];
    for (std::size_t i = 0; i < parts_.size(); ++i)
        for (std::size_t b = 0; b < 8; ++b)
            bytes[8 * i + b] = static_cast<unsigned char>(parts_[i] >> (8 * b));
    std::uint64_t digest = XXH3_64bits_withSeed(bytes, sizeof bytes, block_);
    if (digest == 0)
        digest = 1;
    else if (digest == unknown_block_sum)
        digest = unknown_block_sum - 1;
    sums_.digests()[block_] = digest;
    open_ = false;
}

BlockSums BlockSumsBuilder::finish() {
    if (open_)
        close_block();
    return std::move(sums_);
}

} // namespace virtsnap::image
