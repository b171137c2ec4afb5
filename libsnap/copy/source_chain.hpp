#pragma once
// A disk's image and its backing chain as the copy engine reads them: each
// file opened once and proven to be the chain qemu-img resolves from the
// first (image/image_file.hpp) before a byte of content is read. Content
// stored plainly is read through those descriptors; qemu-img map, and
// qemu-nbd for what is not stored plainly (compressed clusters, a data
// file), open the image by its name, which was just proven to lead to these
// files. Copying a disk, restoring one from a backup set and re-hashing a
// backup file all start here.

#include "copy/source_reader.hpp"
#include "image/image_file.hpp"
#include "image/image_map.hpp"
#include "image/qemu_img.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::copy {

struct SourceImage {
    std::string path;
    std::string format;
};

class SourceChain {
  public:
    // images: the image, then its backing chain, as recorded. exact_size:
    // the disk's size as recorded; the image must be that large (or, for a
    // qcow2 holding a disk of odd size, that size rounded up to 512 bytes);
    // nullopt: whatever size the image has (a lower layer of a kept chain).
    // what names the disk in errors. Throws InputError when the files are
    // not the chain qemu-img finds, RefusedError for an encrypted image.
    static SourceChain open(std::vector<SourceImage> images, image::ImageOrigin origin,
                            std::optional<std::uint64_t> exact_size, const std::string& what);

    std::size_t layers() const noexcept { return files_.size(); }
    const image::ImageInfo& info(std::size_t layer) const { return info_.at(layer); }
    // The disk's exact size in bytes.
    std::uint64_t size() const noexcept { return size_; }

    // Where the content of layer (0: the image) and the layers below it
    // lives, as qemu-img map says (a plain raw file: as the file system says).
    std::vector<image::Extent> map(std::size_t layer) const;
    // The same, always as qemu-img map says, a plain raw file included.
    std::vector<image::Extent> qemu_map(std::size_t layer) const;
    // A reader of that content, through the opened files: a domain's image
    // past the page cache unless cached (it is read again soon).
    std::unique_ptr<SourceReader> reader(std::size_t layer, const std::vector<image::Extent>& map,
                                         bool cached = false) const;

  private:
    SourceChain() = default;

    std::vector<SourceImage> images_;
    image::ImageOrigin origin_ = image::ImageOrigin::host;
    std::vector<image::ImageFile> files_;
    std::vector<image::ImageInfo> info_;
    bool plain_ = false;        // a raw file alone: no qemu-img needed at all
    bool through_qemu_ = false; // an external data file: only QEMU can map it
    std::uint64_t size_ = 0;
};

} // namespace virtsnap::copy
