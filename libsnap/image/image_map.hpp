#pragma once
// Where an image's content lives, as `qemu-img map` reports it: which ranges
// hold data, in which file of the backing chain and at which offset, and
// which ranges read as zeros. The copy engine reads only the data ranges, so
// a 100 GiB disk holding 1 GiB costs about 1 GiB.

#include "util/subprocess.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::image {

struct Extent {
    std::uint64_t start = 0;
    std::uint64_t length = 0;
    int depth = 0;        // 0: the image itself, n: the n-th backing image below it
    bool present = false; // allocated in some layer (qemu-img 6.0+; else data || zero)
    bool zero = false;    // reads as zeros
    bool data = false;    // holds data to copy
    // Where the data sits in the file at `depth`, when it is stored plainly
    // (not compressed, not encrypted); nullopt otherwise.
    std::optional<std::uint64_t> offset;

    std::uint64_t end() const noexcept { return start + length; }
};

// Parses `qemu-img map --output=json`; what names the image in errors.
// Throws InputError on anything that is not a gapless, ordered map.
std::vector<Extent> parse_image_map(const std::string& json, const std::string& what);

// Runs `qemu-img map -U --output=json -f FORMAT PATH` (the format is always
// given, never probed).
std::vector<Extent> query_image_map(const std::string& path, const std::string& format,
                                    util::OnInterrupt on_interrupt = util::OnInterrupt::wait);

// The map of a raw regular file of size bytes from the file system's own
// record of its holes (SEEK_DATA/SEEK_HOLE), as cp --sparse finds them:
// the same answer as qemu-img map without starting it.
std::vector<Extent> map_sparse_file(const std::string& path, std::uint64_t size);
// The same for an open file (path names it in errors).
std::vector<Extent> map_sparse_file(int fd, const std::string& path, std::uint64_t size);

} // namespace virtsnap::image
