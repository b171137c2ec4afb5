#include "copy/source_reader.hpp"

#include "image/nbd_image.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <unistd.h>

namespace virtsnap::copy {

using util::quoted;
using util::SystemError;

namespace {

// Reads that bypass the page cache must be aligned in file offset, length
// and memory to the device's logical block; 4 KiB is a multiple of every
// common one (512, 4096), and a read the device still refuses falls back
// to the page cache.
constexpr std::uint64_t uncached_alignment = 4096;

bool aligned(std::uint64_t value) {
    return value % uncached_alignment == 0;
}

// The same open file again, with O_DIRECT: by /proc/self/fd, never by name,
// so it is the file proven to be the chain's. An empty descriptor where the
// file system refuses O_DIRECT (tmpfs before Linux 6.6, some FUSE).
util::UniqueFd reopen_uncached(const image::ImageFile& file) {
    const std::string self = "/proc/self/fd/" + std::to_string(file.fd());
    return util::UniqueFd(::open(self.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
}

class DirectReader : public SourceReader {
  public:
    DirectReader(const std::vector<const image::ImageFile*>& files, bool uncached) : files_(files) {
        // The kernel's read-ahead, widened by SEQUENTIAL, keeps the storage
        // busy between reads. A WILLNEED hint after each read (tried) walked
        // the next 16 MiB of page cache every 2 MiB and took a third of the
        // copy's CPU time (perf), for no gain.
        // Read past the cache, only an unaligned head or tail goes through
        // it, and read-ahead there would only cache the pages the next
        // uncached read reads again.
        for (const image::ImageFile* file : files_) {
            uncached_.push_back(uncached ? reopen_uncached(*file) : util::UniqueFd());
            ::posix_fadvise(file->fd(), 0, 0, uncached_.back() ? POSIX_FADV_RANDOM : POSIX_FADV_SEQUENTIAL);
        }
    }

    void read(const image::Extent& extent, std::uint64_t offset, char* buffer,
              std::uint64_t length) override {
        if (extent.depth < 0 || static_cast<size_t>(extent.depth) >= files_.size() || !extent.offset)
            throw util::Error("internal error: extent at " + std::to_string(extent.start) +
                              " has no readable location");
        const std::size_t layer = static_cast<size_t>(extent.depth);
        const image::ImageFile& file = *files_[layer];
        util::UniqueFd& uncached = uncached_[layer];
        std::uint64_t position = *extent.offset + (offset - extent.start);
        while (length > 0) {
            // The aligned part straight from the storage into the buffer (no
            // copy through the page cache, which a backup would only fill
            // with data nobody reads again); an unaligned head or tail, and
            // everything after a refused read, through the page cache. A
            // head that ends where both file and buffer are aligned is read
            // alone, so that the rest can go past the cache.
            const std::uint64_t address = reinterpret_cast<std::uintptr_t>(buffer);
            const bool direct =
                uncached && aligned(position) && aligned(address) && length >= uncached_alignment;
            std::uint64_t want = direct ? length - length % uncached_alignment : length;
            const std::uint64_t head = position % uncached_alignment;
            if (uncached && !direct && head != 0 && head == address % uncached_alignment)
                want = std::min(length, uncached_alignment - head);
            ssize_t n =
                ::pread(direct ? uncached.get() : file.fd(), buffer, want, static_cast<off_t>(position));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && direct && errno == EINVAL) {
                uncached.reset();
                ::posix_fadvise(file.fd(), 0, 0, POSIX_FADV_SEQUENTIAL);
                continue;
            }
            if (n < 0)
                throw SystemError(
                    "cannot read " + quoted(file.path()) + " at offset " + std::to_string(position), errno);
            if (n == 0)
                throw util::Error("cannot read " + quoted(file.path()) + ": it ends before offset " +
                                  std::to_string(position) + " (was it changed during the copy?)");
            buffer += n;
            length -= static_cast<std::uint64_t>(n);
            position += static_cast<std::uint64_t>(n);
        }
    }

    bool uncached() const override {
        for (const util::UniqueFd& fd : uncached_)
            if (fd)
                return true;
        return false;
    }

  private:
    std::vector<const image::ImageFile*> files_;
    std::vector<util::UniqueFd> uncached_; // per file: O_DIRECT, or empty
};

class NbdReader : public SourceReader {
  public:
    NbdReader(const std::string& path, const std::string& format)
        : image_(image::NbdImage::open_read_only(path, format)) {}

    void read(const image::Extent&, std::uint64_t offset, char* buffer, std::uint64_t length) override {
        image_.read(buffer, length, offset);
    }

  private:
    image::NbdImage image_;
};

} // namespace

std::unique_ptr<SourceReader> open_source_reader(const std::vector<const image::ImageFile*>& files,
                                                 const std::string& format,
                                                 const std::vector<image::Extent>& extents, bool through_qemu,
                                                 bool uncached) {
    if (files.empty())
        throw util::Error("internal error: a reader of no image");
    bool plain = !through_qemu;
    for (const image::Extent& extent : extents)
        plain = plain && (!extent.data || extent.offset);
    if (plain)
        return std::make_unique<DirectReader>(files, uncached);
    return std::make_unique<NbdReader>(files.front()->path(), format);
}

} // namespace virtsnap::copy
