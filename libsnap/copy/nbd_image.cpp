#include "copy/nbd_image.hpp"

#include "util/error.hpp"

#include <libnbd.h>
#include <sys/stat.h>

namespace virtsnap::copy {

using util::quoted;

void NbdHandleDeleter::operator()(nbd_handle* handle) const noexcept {
    nbd_close(handle);
}

namespace {

// QEMU's option syntax doubles a comma that belongs to a value.
std::string escape_commas(const std::string& value) {
    std::string escaped;
    for (char c : value) {
        escaped += c;
        if (c == ',')
            escaped += ',';
    }
    return escaped;
}

} // namespace

NbdImage::NbdImage(const std::vector<std::string>& qemu_nbd_args, std::string what)
    : handle_(nbd_create()), what_(std::move(what)) {
    if (!handle_)
        throw util::Error("cannot create an NBD handle: " + std::string(nbd_get_error()));
    std::vector<std::string> args{"qemu-nbd"};
    args.insert(args.end(), qemu_nbd_args.begin(), qemu_nbd_args.end());
    std::vector<char*> argv;
    for (std::string& arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (nbd_connect_systemd_socket_activation(handle_.get(), argv.data()) == -1)
        fail("open");
}

NbdImage NbdImage::open_read_only(const std::string& path, const std::string& format) {
    // The frozen image is a backing file of the running QEMU, which holds
    // its image locks: read without taking any (what qemu-img -U does;
    // qemu-nbd has no -U).
    struct stat st {};
    const bool block = ::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
    return NbdImage({"--read-only", "--cache=writeback", "--image-opts",
                     "driver=" + escape_commas(format) + ",file.driver=" + (block ? "host_device" : "file") +
                         ",file.filename=" + escape_commas(path) + ",file.locking=off"},
                    quoted(path));
}

NbdImage NbdImage::open_writable(const std::string& path, bool compress) {
    if (compress)
        return NbdImage({"--cache=writeback", "--image-opts",
                         "driver=compress,file.driver=qcow2,file.file.driver=file,file.file.filename=" +
                             escape_commas(path)},
                        quoted(path));
    return NbdImage({"--format=qcow2", "--cache=writeback", "--discard=unmap", path}, quoted(path));
}

std::uint64_t NbdImage::size() const {
    int64_t size = nbd_get_size(handle_.get());
    if (size < 0)
        fail("get the size of");
    return static_cast<std::uint64_t>(size);
}

void NbdImage::read(char* buffer, std::uint64_t length, std::uint64_t offset) {
    if (nbd_pread(handle_.get(), buffer, length, offset, 0) == -1)
        fail("read offset " + std::to_string(offset) + " of");
}

void NbdImage::write(const char* buffer, std::uint64_t length, std::uint64_t offset) {
    if (nbd_pwrite(handle_.get(), buffer, length, offset, 0) == -1)
        fail("write offset " + std::to_string(offset) + " of");
}

void NbdImage::write_zeroes(std::uint64_t length, std::uint64_t offset) {
    if (nbd_zero(handle_.get(), length, offset, 0) == -1)
        fail("zero offset " + std::to_string(offset) + " of");
}

void NbdImage::finish() {
    if (nbd_flush(handle_.get(), 0) == -1)
        fail("flush");
    if (nbd_shutdown(handle_.get(), 0) == -1)
        fail("close");
    handle_.reset();
}

void NbdImage::fail(const std::string& action) const {
    const char* message = nbd_get_error();
    throw util::Error("cannot " + action + " " + what_ +
                      " through qemu-nbd: " + (message ? message : "unknown error"));
}

} // namespace virtsnap::copy
