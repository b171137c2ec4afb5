#pragma once
// How the copy engine reads a disk's content, range by range, as an image map
// describes it: straight from the chain's files at the offsets qemu-img map
// gives (no decoding, no extra copy), or through qemu-nbd when some content
// is not stored plainly (compressed clusters, an external data file).

#include "copy/image_map.hpp"
#include "copy/nbd_image.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace virtsnap::copy {

// An image and the backing chain below it, top first: what depth n in a map
// refers to.
struct ImageLayers {
    std::vector<std::string> paths;
    std::vector<std::string> formats;
};

class SourceReader {
  public:
    virtual ~SourceReader() = default;
    // Reads length bytes of the content at guest offset `offset`, which lies
    // inside extent (a data extent of the map the reader was made for).
    virtual void read(const Extent& extent, std::uint64_t offset, char* buffer, std::uint64_t length) = 0;
};

// Picks the direct reader when every data extent has a plain offset in the
// layer files, the qemu-nbd reader of layers.paths[0] otherwise or when
// through_qemu is set (an external data file, whose offsets map elsewhere).
std::unique_ptr<SourceReader> open_source_reader(const ImageLayers& layers,
                                                 const std::vector<Extent>& extents, bool through_qemu);

} // namespace virtsnap::copy
