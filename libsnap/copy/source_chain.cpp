#include "copy/source_chain.hpp"

#include "util/error.hpp"

namespace virtsnap::copy {

using util::quoted;

namespace {

std::uint64_t round_up_to_sector(std::uint64_t size) {
    return (size + 511) / 512 * 512;
}

} // namespace

SourceChain SourceChain::open(std::vector<SourceImage> images, image::ImageOrigin origin,
                              std::optional<std::uint64_t> exact_size, const std::string& what) {
    if (images.empty())
        throw util::Error("internal error: " + what + " has no image to read");
    SourceChain chain;
    chain.images_ = std::move(images);
    chain.origin_ = origin;
    std::vector<std::string> formats;
    for (const SourceImage& source : chain.images_) {
        chain.files_.push_back(image::ImageFile::open(source.path, origin));
        formats.push_back(source.format);
    }

    // A raw file without a backing chain needs no qemu-img: its size is the
    // file's and its holes are the file system's (two fewer processes to
    // start per disk, which is most of the fixed cost of copying a small
    // disk). It is the file opened above by construction.
    const image::ImageFile& top = chain.files_.front();
    chain.plain_ = formats.front() == "raw" && chain.files_.size() == 1 && !top.is_block_device();
    std::uint64_t image_size = 0;
    if (chain.plain_) {
        image::ImageInfo info;
        info.filename = top.path();
        info.format = "raw";
        info.virtual_size = top.size();
        chain.info_.push_back(info);
        image_size = top.size();
    } else {
        chain.info_ = image::query_image_chain(top.path(), formats.front(), util::OnInterrupt::stop_child);
        image::prove_chain(chain.files_, formats, chain.info_, what);
        image_size = chain.info_.front().virtual_size;
    }
    for (const image::ImageInfo& info : chain.info_) {
        if (info.encrypted)
            throw util::RefusedError("image " + quoted(info.filename) +
                                     " is encrypted; virtsnap cannot copy encrypted images");
        if (!info.data_file.empty()) {
            if (origin == image::ImageOrigin::backup_set)
                throw util::InputError("backup file " + quoted(info.filename) + " keeps its data in " +
                                       quoted(info.data_file) + "; a backup set's image holds its own data");
            chain.through_qemu_ = true;
        }
    }
    if (exact_size && image_size != *exact_size && image_size != round_up_to_sector(*exact_size))
        throw util::InputError(what + ": the image holds " + std::to_string(image_size) +
                               " bytes, but the disk's recorded size is " + std::to_string(*exact_size) +
                               "; nothing was read");
    chain.size_ = exact_size.value_or(image_size);
    return chain;
}

std::vector<image::Extent> SourceChain::map(std::size_t layer) const {
    const image::ImageFile& file = files_.at(layer);
    if (plain_)
        return image::map_sparse_file(file.fd(), file.path(), file.size());
    return image::query_image_map(file.path(), images_.at(layer).format, util::OnInterrupt::stop_child);
}

std::vector<image::Extent> SourceChain::qemu_map(std::size_t layer) const {
    return image::query_image_map(files_.at(layer).path(), images_.at(layer).format,
                                  util::OnInterrupt::stop_child);
}

std::unique_ptr<SourceReader> SourceChain::reader(std::size_t layer, const std::vector<image::Extent>& map,
                                                  bool cached) const {
    std::vector<const image::ImageFile*> below;
    for (std::size_t i = layer; i < files_.size(); ++i)
        below.push_back(&files_[i]);
    // A domain's image is read past the page cache: a backup reads it once
    // (unless the caller says otherwise), and filling the host's cache with
    // it would evict what the host's guests use. A backup set's files are
    // read through the cache: a restore or a verification may read them
    // again.
    return open_source_reader(below, images_.at(layer).format, map, through_qemu_,
                              origin_ == image::ImageOrigin::host && !cached);
}

} // namespace virtsnap::copy
