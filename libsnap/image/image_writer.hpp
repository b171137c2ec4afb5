#pragma once
// Where the copy engine puts content: a raw file written directly, or a
// qcow2 image written through qemu-nbd. One interface, one engine.

#include "image/nbd_image.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <string>

namespace virtsnap::image {

class ImageWriter {
  public:
    virtual ~ImageWriter() = default;
    virtual void write(const char* data, std::uint64_t length, std::uint64_t offset) = 0;
    // Makes the range read as zeros even over a backing image.
    virtual void write_zeroes(std::uint64_t length, std::uint64_t offset) = 0;
    // Everything on stable storage; the writer is unusable afterwards.
    virtual void finish() = 0;
};

// A raw image: a sparse file of the disk's virtual size; what is never
// written stays a hole.
class RawFileWriter : public ImageWriter {
  public:
    RawFileWriter(util::UniqueFd fd, std::string path, std::uint64_t virtual_size);
    void write(const char* data, std::uint64_t length, std::uint64_t offset) override;
    void write_zeroes(std::uint64_t length, std::uint64_t offset) override;
    void finish() override;

  private:
    util::UniqueFd fd_;
    std::string path_;
};

// A qcow2 image created beforehand (qemu-img create), written through qemu-nbd.
class Qcow2Writer : public ImageWriter {
  public:
    Qcow2Writer(const std::string& path, bool compress);
    void write(const char* data, std::uint64_t length, std::uint64_t offset) override;
    void write_zeroes(std::uint64_t length, std::uint64_t offset) override;
    void finish() override;

  private:
    NbdImage image_;
    std::string path_;
};

} // namespace virtsnap::image
