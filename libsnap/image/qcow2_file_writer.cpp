#include "image/qcow2_file_writer.hpp"

#include "image/file_output.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace virtsnap::image {

using util::quoted;
using util::SystemError;

namespace {

// docs/interop/qcow2.txt in QEMU's sources.
constexpr std::uint64_t flag_copied = 1ULL << 63; // refcount exactly 1
constexpr std::uint64_t flag_zero = 1;            // reads as zeros (version 3)
constexpr std::uint64_t offset_mask = 0x00fffffffffffe00ULL;
constexpr std::uint32_t header_length = 112;
constexpr std::uint32_t extension_backing_format = 0xe2792acaU;
constexpr std::uint32_t refcount_order = 4; // 16-bit refcounts, QEMU's default
// QEMU refuses to open an image whose tables pass these (qcow2.h:
// QCOW_MAX_L1_SIZE, QCOW_MAX_REFTABLE_SIZE), as qemu-img create refuses to
// make one.
constexpr std::uint64_t max_l1_bytes = 32ULL << 20;
constexpr std::uint64_t max_refcount_table_bytes = 8ULL << 20;

void put_be(std::vector<unsigned char>& buffer, std::uint64_t at, std::uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, value >>= 8)
        buffer[at + static_cast<std::uint64_t>(i)] = static_cast<unsigned char>(value & 0xff);
}

std::uint64_t div_up(std::uint64_t value, std::uint64_t unit) {
    return (value + unit - 1) / unit;
}

std::uint64_t align8(std::uint64_t value) {
    return (value + 7) & ~std::uint64_t{7};
}

// The refcount blocks and refcount table clusters that cover `used`
// clusters and themselves.
std::pair<std::uint64_t, std::uint64_t> refcount_clusters(std::uint64_t used, std::uint64_t cluster_size) {
    const std::uint64_t per_block = cluster_size * 8 / (1ULL << refcount_order);
    std::uint64_t blocks = 0, table_clusters = 0;
    for (;;) {
        const std::uint64_t total = used + blocks + table_clusters;
        const std::uint64_t need_blocks = div_up(total, per_block);
        const std::uint64_t need_table = div_up(need_blocks * 8, cluster_size);
        if (need_blocks <= blocks && need_table <= table_clusters)
            return {blocks, table_clusters};
        blocks = std::max(blocks, need_blocks);
        table_clusters = std::max(table_clusters, need_table);
    }
}

} // namespace

Qcow2FileWriter::Qcow2FileWriter(util::UniqueFd fd, std::string path, Qcow2Layout layout)
    : fd_(std::move(fd)), path_(std::move(path)), layout_(std::move(layout)) {
    const std::uint64_t c = layout_.cluster_size;
    if (c < 512 || c > (2ULL << 20) || (c & (c - 1)) != 0)
        throw util::Error("qcow2 cluster size " + std::to_string(c) +
                          " is not a power of two from 512 B to 2 MiB");
    while ((1ULL << cluster_bits_) < c)
        ++cluster_bits_;
    // A qcow2 holds whole 512-byte sectors: QEMU reads a size of 1,000,000
    // bytes as 999,936. The disk's last partial sector is kept whole (its
    // tail reads as zeros) and the exact size is recorded by the caller.
    header_size_ = div_up(layout_.virtual_size, 512) * 512;
    l2_entries_ = c / 8;
    l1_size_ = div_up(header_size_, c * l2_entries_);
    const std::string too_large = "a qcow2 image of " + std::to_string(header_size_) + " bytes with " +
                                  std::to_string(c) + "-byte clusters needs ";
    if (l1_size_ * 8 > max_l1_bytes)
        throw util::Error(too_large + "an L1 table larger than QEMU's limit of " +
                          std::to_string(max_l1_bytes >> 20) + " MiB; " + quoted(path_) +
                          " needs larger clusters");
    // Every cluster a full image could hold: header, data, L2 and L1 tables.
    const std::uint64_t most = 1 + div_up(header_size_, c) + l1_size_ + div_up(l1_size_ * 8, c);
    if (refcount_clusters(most, c).second * c > max_refcount_table_bytes)
        throw util::Error(too_large + "a refcount table larger than QEMU's limit of " +
                          std::to_string(max_refcount_table_bytes >> 20) + " MiB; " + quoted(path_) +
                          " needs larger clusters");
    // QEMU refuses to open an image whose backing file name is longer.
    if (layout_.backing.size() > 1023)
        throw util::Error("the backing file name of " + quoted(path_) + " is " +
                          std::to_string(layout_.backing.size()) + " bytes long; QEMU reads at most 1023");
    next_free_ = c; // the header's cluster
}

std::uint64_t& Qcow2FileWriter::entry(std::uint64_t guest_offset) {
    const std::uint64_t cluster = guest_offset >> cluster_bits_;
    std::vector<std::uint64_t>& table = l2_tables_[cluster / l2_entries_];
    if (table.empty())
        table.assign(l2_entries_, 0);
    return table[cluster % l2_entries_];
}

std::uint64_t Qcow2FileWriter::allocate(std::uint64_t clusters) {
    const std::uint64_t at = next_free_;
    next_free_ += clusters * layout_.cluster_size;
    return at;
}

void Qcow2FileWriter::write_at(const void* data, std::uint64_t length, std::uint64_t host_offset) {
    write_fully(fd_.get(), path_, static_cast<const char*>(data), length, host_offset);
}

void Qcow2FileWriter::write(const char* data, std::uint64_t length, std::uint64_t offset) {
    if (offset + length > header_size_ || offset + length < offset)
        throw util::Error("internal error: write beyond the end of " + quoted(path_));
    const std::uint64_t c = layout_.cluster_size;
    // Clusters allocated one after another are contiguous in the file too:
    // one pwrite covers them.
    const char* pending_data = data;
    std::uint64_t pending_host = 0, pending_length = 0;
    while (length > 0) {
        const std::uint64_t in_cluster = offset & (c - 1);
        const std::uint64_t n = std::min(length, c - in_cluster);
        std::uint64_t& e = entry(offset);
        if ((e & offset_mask) == 0)
            e = allocate(1) | flag_copied;
        const std::uint64_t host = (e & offset_mask) + in_cluster;
        if (pending_length > 0 && pending_host + pending_length != host) {
            write_at(pending_data, pending_length, pending_host);
            pending_length = 0;
        }
        if (pending_length == 0) {
            pending_data = data;
            pending_host = host;
        }
        pending_length += n;
        data += n;
        offset += n;
        length -= n;
    }
    if (pending_length > 0)
        write_at(pending_data, pending_length, pending_host);
}

void Qcow2FileWriter::write_zeroes(std::uint64_t length, std::uint64_t offset) {
    if (offset + length > header_size_ || offset + length < offset)
        throw util::Error("internal error: zero write beyond the end of " + quoted(path_));
    const std::uint64_t c = layout_.cluster_size;
    while (length > 0) {
        const std::uint64_t in_cluster = offset & (c - 1);
        const std::uint64_t n = std::min(length, c - in_cluster);
        std::uint64_t& e = entry(offset);
        if ((e & offset_mask) != 0) {
            if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                            static_cast<off_t>((e & offset_mask) + in_cluster), static_cast<off_t>(n)) != 0)
                throw SystemError("cannot punch a hole into " + quoted(path_), errno);
        } else if (n == c || (in_cluster == 0 && offset + n >= layout_.virtual_size) ||
                   (e & flag_zero) != 0) {
            // (The image's last cluster may end before a whole cluster.)
            e = flag_zero;
        } else {
            // Only a whole cluster can be a zero cluster; part of one reads
            // as zeros once it is allocated (a new cluster holds zeros and
            // hides the backing image whole). The caller writes the rest of
            // it: a layer's plan covers whole clusters, and its zeros (holes
            // of a raw source, 4 KiB apart) may come before its data.
            e = allocate(1) | flag_copied;
        }
        offset += n;
        length -= n;
    }
}

void Qcow2FileWriter::finish() {
    const std::uint64_t c = layout_.cluster_size;

    // The L2 tables, then the L1 table, after the data.
    std::vector<unsigned char> l1(std::max<std::uint64_t>(div_up(l1_size_ * 8, c), 1) * c, 0);
    std::vector<unsigned char> table(c);
    for (const auto& [index, entries] : l2_tables_) {
        for (std::uint64_t i = 0; i < l2_entries_; ++i)
            put_be(table, i * 8, entries[i], 8);
        const std::uint64_t at = allocate(1);
        write_at(table.data(), c, at);
        put_be(l1, index * 8, at | flag_copied, 8);
    }
    const std::uint64_t l1_offset = allocate(l1.size() / c);
    write_at(l1.data(), l1.size(), l1_offset);

    // Refcount blocks covering every cluster including themselves and the
    // refcount table: grow both until they cover what they add.
    const std::uint64_t per_block = c * 8 / (1ULL << refcount_order);
    const std::uint64_t used = next_free_ / c;
    const auto [blocks, table_clusters] = refcount_clusters(used, c);
    const std::uint64_t total = used + blocks + table_clusters;
    const std::uint64_t blocks_offset = allocate(blocks);
    const std::uint64_t table_offset = allocate(table_clusters);
    std::vector<unsigned char> block(c);
    for (std::uint64_t b = 0; b < blocks; ++b) {
        std::fill(block.begin(), block.end(), 0);
        for (std::uint64_t i = 0; i < per_block && b * per_block + i < total; ++i)
            put_be(block, i * 2, 1, 2);
        write_at(block.data(), c, blocks_offset + b * c);
    }
    std::vector<unsigned char> refcount_table(table_clusters * c, 0);
    for (std::uint64_t b = 0; b < blocks; ++b)
        put_be(refcount_table, b * 8, blocks_offset + b * c, 8);
    write_at(refcount_table.data(), refcount_table.size(), table_offset);

    // The header last: until it is written the file is no image at all.
    std::vector<unsigned char> header(c, 0);
    put_be(header, 0, 0x514649fbU, 4); // "QFI\xfb"
    put_be(header, 4, 3, 4);
    put_be(header, 20, cluster_bits_, 4);
    put_be(header, 24, header_size_, 8);
    put_be(header, 36, l1_size_, 4);
    put_be(header, 40, l1_offset, 8);
    put_be(header, 48, table_offset, 8);
    put_be(header, 56, table_clusters, 4);
    put_be(header, 80, layout_.lazy_refcounts ? 1 : 0, 8);
    put_be(header, 96, refcount_order, 4);
    put_be(header, 100, header_length, 4);
    std::uint64_t at = header_length;
    if (!layout_.backing.empty()) {
        const std::string& format = layout_.backing_format;
        const std::uint64_t needed = at + 8 + align8(format.size()) + 8 + layout_.backing.size();
        if (needed > c)
            throw util::Error("the backing file name " + quoted(layout_.backing) + " does not fit into a " +
                              std::to_string(c) + "-byte qcow2 header cluster");
        put_be(header, at, extension_backing_format, 4);
        put_be(header, at + 4, format.size(), 4);
        std::copy(format.begin(), format.end(), header.begin() + static_cast<std::ptrdiff_t>(at + 8));
        at += 8 + align8(format.size());
    }
    at += 8; // the end of the header extensions: type 0, length 0
    if (!layout_.backing.empty()) {
        put_be(header, 8, at, 8);
        put_be(header, 16, layout_.backing.size(), 4);
        std::copy(layout_.backing.begin(), layout_.backing.end(),
                  header.begin() + static_cast<std::ptrdiff_t>(at));
    }
    write_at(header.data(), c, 0);

    if (::ftruncate(fd_.get(), static_cast<off_t>(next_free_)) != 0)
        throw SystemError("cannot size " + quoted(path_), errno);
    if (::fsync(fd_.get()) != 0)
        throw SystemError("cannot sync " + quoted(path_), errno);
    fd_.reset();
}

} // namespace virtsnap::image
