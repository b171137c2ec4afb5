#include "copy/source_reader.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace virtsnap::copy {

using util::quoted;
using util::SystemError;

namespace {

class DirectReader : public SourceReader {
  public:
    explicit DirectReader(const ImageLayers& layers) : paths_(layers.paths) {
        for (const std::string& path : paths_) {
            util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd)
                throw SystemError("cannot open " + quoted(path), errno);
            // The kernel's read-ahead, widened by SEQUENTIAL, keeps the
            // storage busy between reads. A WILLNEED hint after each read
            // (tried) walked the next 16 MiB of page cache every 2 MiB and
            // took a third of the copy's CPU time (perf), for no gain.
            ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
            fds_.push_back(std::move(fd));
        }
    }

    void read(const Extent& extent, std::uint64_t offset, char* buffer, std::uint64_t length) override {
        if (extent.depth < 0 || static_cast<size_t>(extent.depth) >= fds_.size() || !extent.offset)
            throw util::Error("internal error: extent at " + std::to_string(extent.start) +
                              " has no readable location");
        const size_t layer = static_cast<size_t>(extent.depth);
        std::uint64_t position = *extent.offset + (offset - extent.start);
        while (length > 0) {
            ssize_t n = ::pread(fds_[layer].get(), buffer, length, static_cast<off_t>(position));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                throw SystemError(
                    "cannot read " + quoted(paths_[layer]) + " at offset " + std::to_string(position), errno);
            if (n == 0)
                throw util::Error("cannot read " + quoted(paths_[layer]) + ": it ends before offset " +
                                  std::to_string(position) + " (was it changed during the copy?)");
            buffer += n;
            length -= static_cast<std::uint64_t>(n);
            position += static_cast<std::uint64_t>(n);
        }
    }

  private:
    std::vector<std::string> paths_;
    std::vector<util::UniqueFd> fds_;
};

class NbdReader : public SourceReader {
  public:
    explicit NbdReader(const ImageLayers& layers)
        : image_(NbdImage::open_read_only(layers.paths.at(0), layers.formats.at(0))) {}

    void read(const Extent&, std::uint64_t offset, char* buffer, std::uint64_t length) override {
        image_.read(buffer, length, offset);
    }

  private:
    NbdImage image_;
};

} // namespace

std::unique_ptr<SourceReader> open_source_reader(const ImageLayers& layers,
                                                 const std::vector<Extent>& extents, bool through_qemu) {
    if (through_qemu)
        return std::make_unique<NbdReader>(layers);
    for (const Extent& extent : extents)
        if (extent.data && !extent.offset)
            return std::make_unique<NbdReader>(layers);
    return std::make_unique<DirectReader>(layers);
}

} // namespace virtsnap::copy
