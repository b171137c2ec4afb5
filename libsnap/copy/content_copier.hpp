#pragma once
// The copy engine: reads the data ranges of an image map, hashes the content
// (verify/content_hash) as it is read and hands what must be written to a
// writer thread, so reading and writing overlap. Holes are never read;
// blocks of zeros are not written unless they must hide a backing image,
// and then a whole cluster of them as a zero cluster where the writer can.

#include "copy/source_reader.hpp"
#include "image/content_hash.hpp"
#include "image/image_map.hpp"
#include "image/image_writer.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace virtsnap::copy {

struct CopyPlan {
    std::uint64_t virtual_size = 0;
    // Data extents to read and write, in order; zero extents to write as
    // zeros (only for a layer that sits on a backing image).
    std::vector<image::Extent> data;
    std::vector<image::Extent> zeroes;
    // Write data extents whole, zero blocks included (a layer on a backing
    // image, where an unwritten block would show the backing's content).
    bool write_zero_blocks = false;
    // Smallest unit written (4 KiB; a whole cluster for compressed qcow2).
    std::uint64_t write_unit = image::hash_block_size;
    // With write_zero_blocks: the cluster size of a writer that makes a
    // whole cluster of zeros a zero cluster (image::Qcow2FileWriter), so a
    // layer stores the zeros a guest wrote over older data as metadata, not
    // as data; 0: zeros are written as data.
    std::uint64_t zero_clusters = 0;

    std::uint64_t data_length() const noexcept;
};

// The extents of a map to copy for a flattened image: all data, any depth.
CopyPlan plan_flattened(const std::vector<image::Extent>& map, std::uint64_t virtual_size);
// The extents of one layer (depth 0 of its own map); zero clusters become
// zero writes when the copy has a backing image below it.
CopyPlan plan_layer(const std::vector<image::Extent>& map, std::uint64_t virtual_size, bool has_backing);
// A layer holding the ranges of changed (sorted, not overlapping) as the
// whole chain of map reads there, for a copy on a backing image: data
// (any depth) is written whole, everything else as zeros, so that nothing
// of the backing image shows through a changed range.
CopyPlan plan_changed(const std::vector<image::Extent>& map, const std::vector<image::Extent>& changed,
                      std::uint64_t virtual_size);
// ranges sorted and each run of overlapping or touching ones made one
// (only start and length are kept).
std::vector<image::Extent> merged_ranges(std::vector<image::Extent> ranges);
// merged_ranges of ranges, each first widened to whole units (a cluster
// size), the last cut at virtual_size.
std::vector<image::Extent> whole_clusters(std::vector<image::Extent> ranges, std::uint64_t unit,
                                          std::uint64_t virtual_size);

using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct CopyStats {
    // Time spent finding zero blocks and hashing (on the reading thread, or
    // on the writing thread when the reader reads past the page cache): an
    // upper bound of what checksums add to the copy, as reading or writing
    // goes on meanwhile.
    std::chrono::nanoseconds hashing{0};
    // Time spent finishing the image (its metadata, and the fsync that
    // waits for the data still being written back).
    std::chrono::nanoseconds finishing{0};
};

// Copies; checks util::interrupted() between windows (throws Interrupted).
// writer may be null: then the content is only hashed (virtsnap-verify).
// hasher may be null: then nothing is hashed (only bench/copy does that, to
// measure what checksums cost).
CopyStats copy_content(const CopyPlan& plan, SourceReader& reader, image::ImageWriter* writer,
                       image::ContentHasher* hasher, const ProgressFn& progress);

} // namespace virtsnap::copy
