#pragma once
// What a qcow2 header says about the files an image makes QEMU read besides
// itself: a backing file and an external data file. A backup set's image
// must name none outside the set's own chain, and virtsnap reads this from
// the file itself before any QEMU tool opens it (a tool would already
// follow the names). Format: docs/interop/qcow2.txt in QEMU's sources.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace virtsnap::image {

struct Qcow2Header {
    std::uint32_t version = 0;      // 2 or 3
    std::uint32_t cluster_bits = 0; // 9 to 21
    std::uint64_t size = 0;         // virtual size in bytes
    std::uint64_t incompatible_features = 0;
    std::string backing_file;   // as written; empty when none
    std::string backing_format; // from the header extension; empty when none
    bool external_data_file = false;
    std::string data_file; // the extension's name, when it has one
};

// The largest part of a file the header and its extensions can occupy:
// they end within the first cluster, at most 2 MiB.
constexpr std::size_t qcow2_header_limit = 2U << 20;

// True when data starts with the qcow2 magic.
bool has_qcow2_magic(const unsigned char* data, std::size_t size) noexcept;

// Parses the header at the start of data (the first bytes of a file, up to
// qcow2_header_limit). Throws InputError, naming what, when it is not a
// qcow2 header or is malformed.
Qcow2Header parse_qcow2_header(const unsigned char* data, std::size_t size, const std::string& what);

// Reads and parses the header of the open file fd.
Qcow2Header read_qcow2_header(int fd, const std::string& what);

// The backing file the qcow2 file at path names, as QEMU would open it (a
// relative name taken from path's directory); none when path is not a
// regular qcow2 file (a link, a FIFO, anything unreadable or malformed) or
// names no backing file. Never follows a link or blocks on a FIFO.
std::optional<std::string> backing_path(const std::string& path);

} // namespace virtsnap::image
