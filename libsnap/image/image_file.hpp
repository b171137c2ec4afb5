#pragma once
// An image file opened once for reading, with the identity of what was
// opened. The copy engine reads through this descriptor only, and the
// identity proves that it is the very file qemu-img resolved as part of a
// disk's backing chain: a manifest could name any readable file as a chain
// image, and reading it at the offsets qemu-img mapped for the real one
// would copy that file into a backup.

#include "image/qemu_img.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

struct stat;

namespace virtsnap::image {

// What makes two names the same file: the device and inode of a regular
// file, the device number of a block device (whose nodes may have several
// names: /dev/dm-0 and /dev/mapper/vg-lv).
struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    dev_t special = 0;
    bool block = false;

    bool operator==(const FileIdentity& other) const noexcept;
    bool operator!=(const FileIdentity& other) const noexcept { return !(*this == other); }
};

FileIdentity identity_of(const struct stat& st);
// The identity of the file path names now (links followed); nullopt when
// there is none.
std::optional<FileIdentity> identity_at(const std::string& path);

// Where an image may come from.
enum class ImageOrigin {
    host,       // a domain's image: links are followed (the domain was defined so)
    backup_set, // a file of a backup set: never through a link, only a regular file
};

class ImageFile {
  public:
    // Opens path read-only. A backup set's file must be a regular file
    // reached without a link (InputError otherwise); a host image must be a
    // regular file or a block device.
    static ImageFile open(const std::string& path, ImageOrigin origin);

    int fd() const noexcept { return fd_.get(); }
    const std::string& path() const noexcept { return path_; }
    const FileIdentity& identity() const noexcept { return identity_; }
    // Bytes in the file (a block device: its size).
    std::uint64_t size() const noexcept { return size_; }
    bool is_block_device() const noexcept { return identity_.block; }

  private:
    ImageFile(util::UniqueFd fd, std::string path, FileIdentity identity, std::uint64_t size)
        : fd_(std::move(fd)), path_(std::move(path)), identity_(identity), size_(size) {}

    util::UniqueFd fd_;
    std::string path_;
    FileIdentity identity_;
    std::uint64_t size_ = 0;
};

// Proves that files (the image first, then its backing chain, opened from
// the names a manifest or a set records) are the chain qemu-img resolved
// from the first: the same number of images, each in the recorded format,
// each the same file as qemu-img's. Throws InputError naming the first
// image that differs, before a byte of content is read.
void prove_chain(const std::vector<ImageFile>& files, const std::vector<std::string>& formats,
                 const std::vector<ImageInfo>& chain, const std::string& what);

} // namespace virtsnap::image
