#pragma once
// A new qcow2 (version 3) image written directly into its file, as the raw
// writer writes a raw one: data clusters are appended in the order they are
// first written, the tables are kept in memory and written after the data,
// the header last. Passing every byte through qemu-nbd cost the copy about
// 1.8 times what qemu-img convert needs; this costs what a raw copy costs.
// Compressed images and extended L2 entries are left to qemu-nbd.

#include "image/image_writer.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace virtsnap::image {

struct Qcow2Layout {
    // The disk's size; the image holds it rounded up to whole 512-byte
    // sectors, as qemu-img create makes it.
    std::uint64_t virtual_size = 0;
    std::uint64_t cluster_size = 65536; // a power of two, 512 B to 2 MiB
    bool lazy_refcounts = false;
    std::string backing;        // backing file name as written, or empty
    std::string backing_format; // its format, when backing is set
};

class Qcow2FileWriter : public ImageWriter {
  public:
    // fd: an empty file opened for writing. Throws Error when QEMU could not
    // open an image of that size with that cluster size (its L1 and
    // refcount tables have limits), before anything is written.
    Qcow2FileWriter(util::UniqueFd fd, std::string path, Qcow2Layout layout);
    void write(const char* data, std::uint64_t length, std::uint64_t offset) override;
    // Whole clusters become zero clusters, which hide a backing image;
    // within a written cluster the range becomes a hole; part of a cluster
    // not yet written allocates it (zeros, the backing hidden whole), for
    // the caller to write the rest of it.
    void write_zeroes(std::uint64_t length, std::uint64_t offset) override;
    void finish() override;

  private:
    std::uint64_t& entry(std::uint64_t guest_offset);
    std::uint64_t allocate(std::uint64_t clusters);
    void write_at(const void* data, std::uint64_t length, std::uint64_t host_offset);

    util::UniqueFd fd_;
    std::string path_;
    Qcow2Layout layout_;
    unsigned cluster_bits_ = 0;
    std::uint64_t header_size_ = 0; // the virtual size rounded up to 512 bytes
    std::uint64_t l2_entries_ = 0;
    std::uint64_t l1_size_ = 0;
    std::uint64_t next_free_ = 0;                                   // host offset of the next free cluster
    std::map<std::uint64_t, std::vector<std::uint64_t>> l2_tables_; // by L1 index
};

} // namespace virtsnap::image
