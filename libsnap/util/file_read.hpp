#pragma once
// Reading whole files that come from outside (manifests, definitions saved
// in a backup set, state records) without letting them steer the reader: a
// FIFO planted where a file should be would block for ever, a link to
// /dev/zero would be read until memory runs out, and a link could point the
// tool at a file it was never meant to read. Every read here is bounded.

#include <cstddef>
#include <optional>
#include <string>

namespace virtsnap::util {

// Upper bounds of what virtsnap reads, far above any real document: a
// manifest lists 16 KiB of checksums per TiB of disk, so 64 MiB is a
// manifest for a few thousand TiB.
constexpr std::size_t manifest_size_limit = 64ULL << 20;
constexpr std::size_t definition_size_limit = 16ULL << 20; // libvirt's own limit is 10 MB
constexpr std::size_t state_record_size_limit = 16ULL << 20;

// A file virtsnap wrote itself or reads from a backup set: opened without
// following a symbolic link and without blocking, it must be a regular file
// of at most limit bytes. what names it in errors (InputError).
// dir_fd: the directory name is relative to (AT_FDCWD for a path).
std::string read_strict_file(int dir_fd, const std::string& name, std::size_t limit, const std::string& what);
// The same, or nullopt when there is no such file.
std::optional<std::string> read_strict_file_if_exists(int dir_fd, const std::string& name, std::size_t limit,
                                                      const std::string& what);

// A file the user named on the command line: links are followed (the user
// chose the name) and a pipe is read (-m <(virtsnap-create vm1)), but a
// directory is an error and at most limit bytes are read.
std::string read_named_file(const std::string& path, std::size_t limit, const std::string& what);

// Everything from an open descriptor (standard input), at most limit bytes.
std::string read_bounded(int fd, std::size_t limit, const std::string& what);

} // namespace virtsnap::util
