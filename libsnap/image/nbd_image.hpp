#pragma once
// An image opened through qemu-nbd, for what virtsnap does not do itself:
// writing qcow2 (allocation, refcounts, compression stay QEMU's job) and
// reading content that is not stored plainly (compressed clusters). libnbd
// starts qemu-nbd by socket activation, so no socket file or port is ever
// exposed, and qemu-nbd exits when the handle closes.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct nbd_handle;

namespace virtsnap::image {

struct NbdHandleDeleter {
    void operator()(nbd_handle* handle) const noexcept;
};
using NbdHandlePtr = std::unique_ptr<nbd_handle, NbdHandleDeleter>;

class NbdImage {
  public:
    // qemu_nbd_args: what follows "qemu-nbd" (format or --image-opts, the
    // image); what names the image in errors.
    NbdImage(const std::vector<std::string>& qemu_nbd_args, std::string what);

    static NbdImage open_read_only(const std::string& path, const std::string& format);
    // Writable; compress sends every written cluster through QEMU's compress
    // filter (whole clusters only).
    static NbdImage open_writable(const std::string& path, bool compress);

    std::uint64_t size() const;
    void read(char* buffer, std::uint64_t length, std::uint64_t offset);
    void write(const char* buffer, std::uint64_t length, std::uint64_t offset);
    // Makes the range read as zeros in this layer (zero clusters in qcow2,
    // which also hide what a backing image holds there).
    void write_zeroes(std::uint64_t length, std::uint64_t offset);
    // Flushes qemu-nbd's caches to the file and disconnects; qemu-nbd exits.
    void finish();

  private:
    [[noreturn]] void fail(const std::string& action) const;

    NbdHandlePtr handle_;
    std::string what_;
};

} // namespace virtsnap::image
