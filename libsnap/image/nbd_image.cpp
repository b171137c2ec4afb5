#include "image/nbd_image.hpp"

#include "image/qemu_option.hpp"
#include "util/error.hpp"

#include <dlfcn.h>
#include <libnbd.h>
#include <mutex>
#include <sys/stat.h>
#include <type_traits>

namespace virtsnap::image {

using util::quoted;

namespace {

// libnbd is loaded when an image is first opened through qemu-nbd, not when
// a tool starts: it brings GnuTLS and eight more libraries, whose loading
// from a cold page cache cost every run about 30 ms though most copies
// never use them (raw and plain qcow2 are written directly).
struct Libnbd {
    decltype(&::nbd_create) create;
    decltype(&::nbd_close) close;
    decltype(&::nbd_get_error) get_error;
    decltype(&::nbd_connect_systemd_socket_activation) connect_systemd_socket_activation;
    decltype(&::nbd_get_size) get_size;
    decltype(&::nbd_pread) pread;
    decltype(&::nbd_pwrite) pwrite;
    decltype(&::nbd_zero) zero;
    decltype(&::nbd_flush) flush;
    decltype(&::nbd_shutdown) shutdown;
};

struct DlCloser {
    void operator()(void* handle) const noexcept { ::dlclose(handle); }
};

const Libnbd& libnbd() {
    static std::unique_ptr<void, DlCloser> library;
    static Libnbd functions{};
    static std::string failure;
    static std::once_flag once;
    std::call_once(once, [] {
        library.reset(::dlopen("libnbd.so.0", RTLD_NOW | RTLD_LOCAL));
        if (!library) {
            const char* message = ::dlerror();
            failure =
                "cannot load libnbd (package libnbd0): " + std::string(message ? message : "unknown error");
            return;
        }
        auto load = [&](auto& function, const char* name) {
            function =
                reinterpret_cast<std::remove_reference_t<decltype(function)>>(::dlsym(library.get(), name));
            if (!function && failure.empty())
                failure = "cannot load libnbd: it has no " + std::string(name);
        };
        load(functions.create, "nbd_create");
        load(functions.close, "nbd_close");
        load(functions.get_error, "nbd_get_error");
        load(functions.connect_systemd_socket_activation, "nbd_connect_systemd_socket_activation");
        load(functions.get_size, "nbd_get_size");
        load(functions.pread, "nbd_pread");
        load(functions.pwrite, "nbd_pwrite");
        load(functions.zero, "nbd_zero");
        load(functions.flush, "nbd_flush");
        load(functions.shutdown, "nbd_shutdown");
    });
    if (!failure.empty())
        throw util::Error(failure);
    return functions;
}

} // namespace

void NbdHandleDeleter::operator()(nbd_handle* handle) const noexcept {
    libnbd().close(handle);
}

NbdImage::NbdImage(const std::vector<std::string>& qemu_nbd_args, std::string what)
    : handle_(libnbd().create()), what_(std::move(what)) {
    if (!handle_)
        throw util::Error("cannot create an NBD handle: " + std::string(libnbd().get_error()));
    std::vector<std::string> args{"qemu-nbd"};
    args.insert(args.end(), qemu_nbd_args.begin(), qemu_nbd_args.end());
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (libnbd().connect_systemd_socket_activation(handle_.get(), argv.data()) == -1)
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
    int64_t size = libnbd().get_size(handle_.get());
    if (size < 0)
        fail("get the size of");
    return static_cast<std::uint64_t>(size);
}

void NbdImage::read(char* buffer, std::uint64_t length, std::uint64_t offset) {
    if (libnbd().pread(handle_.get(), buffer, length, offset, 0) == -1)
        fail("read offset " + std::to_string(offset) + " of");
}

void NbdImage::write(const char* buffer, std::uint64_t length, std::uint64_t offset) {
    if (libnbd().pwrite(handle_.get(), buffer, length, offset, 0) == -1)
        fail("write offset " + std::to_string(offset) + " of");
}

void NbdImage::write_zeroes(std::uint64_t length, std::uint64_t offset) {
    if (libnbd().zero(handle_.get(), length, offset, 0) == -1)
        fail("zero offset " + std::to_string(offset) + " of");
}

void NbdImage::finish() {
    if (libnbd().flush(handle_.get(), 0) == -1)
        fail("flush");
    if (libnbd().shutdown(handle_.get(), 0) == -1)
        fail("close");
    handle_.reset();
}

void NbdImage::fail(const std::string& action) const {
    const char* message = libnbd().get_error();
    throw util::Error("cannot " + action + " " + what_ +
                      " through qemu-nbd: " + (message ? message : "unknown error"));
}

} // namespace virtsnap::image
