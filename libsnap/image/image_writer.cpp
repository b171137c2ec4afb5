#include "image/image_writer.hpp"

#include "image/file_output.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace virtsnap::image {

using util::quoted;
using util::SystemError;

RawFileWriter::RawFileWriter(util::UniqueFd fd, std::string path, std::uint64_t virtual_size)
    : fd_(std::move(fd)), path_(std::move(path)) {
    if (::ftruncate(fd_.get(), static_cast<off_t>(virtual_size)) != 0)
        throw SystemError("cannot size " + quoted(path_), errno);
}

void RawFileWriter::write(const char* data, std::uint64_t length, std::uint64_t offset) {
    write_fully(fd_.get(), path_, data, length, offset);
}

void RawFileWriter::write_zeroes(std::uint64_t length, std::uint64_t offset) {
    if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(length)) != 0)
        throw SystemError("cannot punch a hole into " + quoted(path_), errno);
}

void RawFileWriter::finish() {
    if (::fsync(fd_.get()) != 0)
        throw SystemError("cannot sync " + quoted(path_), errno);
    fd_.reset();
}

Qcow2Writer::Qcow2Writer(const std::string& path, bool compress)
    : image_(NbdImage::open_writable(path, compress)), path_(path) {}

void Qcow2Writer::write(const char* data, std::uint64_t length, std::uint64_t offset) {
    image_.write(data, length, offset);
}

void Qcow2Writer::write_zeroes(std::uint64_t length, std::uint64_t offset) {
    image_.write_zeroes(length, offset);
}

void Qcow2Writer::finish() {
    image_.finish();
    // qemu-nbd has flushed and exited; sync once more so the file's own
    // metadata (its size) is on disk too.
    util::UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0)
        throw SystemError("cannot sync " + quoted(path_), errno);
}

} // namespace virtsnap::image
