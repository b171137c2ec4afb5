#include "image/qcow2_header.hpp"

#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace virtsnap::image {

using util::InputError;

namespace {

constexpr std::uint32_t magic = 0x514649fbU; // "QFI\xfb"
constexpr std::uint32_t extension_end = 0;
constexpr std::uint32_t extension_backing_format = 0xe2792acaU;
constexpr std::uint32_t extension_data_file = 0x44415441U;
constexpr std::uint64_t feature_external_data_file = 1ULL << 2;
constexpr std::size_t version2_header_length = 72;
constexpr std::size_t longest_backing_name = 1023; // QEMU's own limit

std::uint64_t get_be(const unsigned char* data, std::size_t bytes) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i)
        value = value << 8 | data[i];
    return value;
}

class Cursor {
  public:
    Cursor(const unsigned char* data, std::size_t size, std::string what)
        : data_(data), size_(size), what_(std::move(what)) {}

    std::uint64_t at(std::size_t offset, std::size_t bytes) const {
        need(offset, bytes);
        return get_be(data_ + offset, bytes);
    }
    std::string text(std::size_t offset, std::size_t length) const {
        need(offset, length);
        return std::string(reinterpret_cast<const char*>(data_ + offset), length);
    }
    [[noreturn]] void fail(const std::string& problem) const {
        throw InputError(what_ + " is not a valid qcow2 image: " + problem);
    }

  private:
    void need(std::size_t offset, std::size_t bytes) const {
        if (offset > size_ || bytes > size_ - offset)
            fail("its header ends early (byte " + std::to_string(offset + bytes) + " of " +
                 std::to_string(size_) + ")");
    }

    const unsigned char* data_;
    std::size_t size_;
    std::string what_;
};

} // namespace

bool has_qcow2_magic(const unsigned char* data, std::size_t size) noexcept {
    return size >= 4 && get_be(data, 4) == magic;
}

Qcow2Header parse_qcow2_header(const unsigned char* data, std::size_t size, const std::string& what) {
    Cursor header(data, std::min(size, qcow2_header_limit), what);
    if (!has_qcow2_magic(data, size))
        header.fail("it does not start with the qcow2 magic");
    Qcow2Header h;
    h.version = static_cast<std::uint32_t>(header.at(4, 4));
    if (h.version != 2 && h.version != 3)
        header.fail("version " + std::to_string(h.version) + " is not 2 or 3");
    const std::uint64_t backing_offset = header.at(8, 8);
    const std::uint64_t backing_size = header.at(16, 4);
    h.cluster_bits = static_cast<std::uint32_t>(header.at(20, 4));
    if (h.cluster_bits < 9 || h.cluster_bits > 21)
        header.fail("cluster bits " + std::to_string(h.cluster_bits) + " are outside 9 to 21");
    const std::uint64_t cluster_size = 1ULL << h.cluster_bits;
    h.size = header.at(24, 8);
    std::size_t header_length = version2_header_length;
    if (h.version == 3) {
        h.incompatible_features = header.at(72, 8);
        header_length = static_cast<std::size_t>(header.at(100, 4));
        if (header_length < 104 || header_length % 8 != 0 || header_length > cluster_size)
            header.fail("header length " + std::to_string(header_length) + " is malformed");
    }
    h.external_data_file = (h.incompatible_features & feature_external_data_file) != 0;

    if (backing_offset != 0 || backing_size != 0) {
        if (backing_size == 0 || backing_size > longest_backing_name)
            header.fail("the backing file name is " + std::to_string(backing_size) + " bytes long");
        // Compared without adding: an offset near 2^64 plus the length
        // wraps around to a small number that would pass.
        if (backing_offset < header_length || backing_size > cluster_size ||
            backing_offset > cluster_size - backing_size)
            header.fail("the backing file name lies outside the header cluster");
        h.backing_file =
            header.text(static_cast<std::size_t>(backing_offset), static_cast<std::size_t>(backing_size));
        if (h.backing_file.find('\0') != std::string::npos)
            header.fail("the backing file name holds a NUL byte");
    }

    // Header extensions follow the header, up to the end of the first
    // cluster (or the backing file name, which comes after them).
    const std::size_t end = static_cast<std::size_t>(
        std::min<std::uint64_t>(cluster_size, backing_offset != 0 ? backing_offset : cluster_size));
    std::size_t at = header_length;
    while (at < end) {
        if (end - at < 8)
            header.fail("its header extensions run past the header cluster");
        const std::uint32_t type = static_cast<std::uint32_t>(header.at(at, 4));
        const std::size_t length = static_cast<std::size_t>(header.at(at + 4, 4));
        at += 8;
        if (type == extension_end)
            break;
        if (length > end - at)
            header.fail("a header extension runs past the header cluster");
        if (type == extension_backing_format)
            h.backing_format = header.text(at, length);
        else if (type == extension_data_file)
            h.data_file = header.text(at, length);
        at += (length + 7) & ~std::size_t{7};
    }
    if (!h.data_file.empty())
        h.external_data_file = true;
    return h;
}

Qcow2Header read_qcow2_header(int fd, const std::string& what) {
    std::vector<unsigned char> buffer(qcow2_header_limit);
    std::size_t got = 0;
    while (got < buffer.size()) {
        ssize_t n = ::pread(fd, buffer.data() + got, buffer.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw util::SystemError("cannot read the header of " + what, errno);
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    return parse_qcow2_header(buffer.data(), got, what);
}

std::optional<std::string> backing_path(const std::string& path) {
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return std::nullopt;
    std::string backing;
    try {
        backing = read_qcow2_header(fd.get(), util::quoted(path)).backing_file;
    } catch (const util::Error&) {
        return std::nullopt;
    }
    if (backing.empty())
        return std::nullopt;
    if (backing.front() == '/')
        return backing;
    const std::size_t slash = path.rfind('/');
    return (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + backing;
}

} // namespace virtsnap::image
