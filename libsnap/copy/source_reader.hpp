#pragma once
// How the copy engine reads a disk's content, range by range, as an image map
// describes it: straight from the chain's files at the offsets qemu-img map
// gives (no decoding, no extra copy), or through qemu-nbd when some content
// is not stored plainly (compressed clusters, an external data file).

#include "image/image_file.hpp"
#include "image/image_map.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace virtsnap::copy {

class SourceReader {
  public:
    virtual ~SourceReader() = default;
    // Reads length bytes of the content at guest offset `offset`, which lies
    // inside extent (a data extent of the map the reader was made for).
    virtual void read(const image::Extent& extent, std::uint64_t offset, char* buffer,
                      std::uint64_t length) = 0;
    // Whether it reads past the page cache (no read-ahead: each read waits
    // for the storage).
    virtual bool uncached() const { return false; }
};

// files: the layer the map was made of, then the layers below it (depth n
// in the map is files[n]); they must outlive the reader, which reads
// through their descriptors. The direct reader when every data extent has a
// plain offset in them; else, or with through_qemu (an external data file,
// whose offsets map elsewhere), qemu-nbd reading files[0] as format.
// uncached: the direct reader reads what is aligned to 4 KiB with O_DIRECT,
// past the page cache (a backup's source: read once, by nobody else).
std::unique_ptr<SourceReader> open_source_reader(const std::vector<const image::ImageFile*>& files,
                                                 const std::string& format,
                                                 const std::vector<image::Extent>& extents, bool through_qemu,
                                                 bool uncached = false);

} // namespace virtsnap::copy
