#pragma once
// Files that must survive a crash whole or not at all: the state record, the
// manifest kept with it. Written to NAME.partial, fsynced, renamed over NAME,
// then the directory fsynced, so a SIGKILL or power loss at any instant
// leaves either the old content or the new, never a torn file.

#include "util/unique_fd.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <sys/types.h>

namespace virtsnap::store {

// Writes text to path atomically and durably, mode 0600 (the state names
// disk images; backup data holds secrets) unless another mode is asked for
// (a metrics file that a monitoring agent must read). Throws SystemError
// naming the path.
void write_durable(const std::string& path, const std::string& text, mode_t mode = 0600);

// A new, empty file at path, mode 0600, owned by this process: a file
// already there (a leftover NAME.partial) is removed first, never opened, so
// a planted hard link or another user's file cannot receive the data. A
// symbolic link there is no leftover of virtsnap's: SystemError (ELOOP).
util::UniqueFd create_fresh_private_file(const std::string& path);

// The whole file, or nullopt when it does not exist: a file virtsnap
// wrote, so it is opened without following a link or blocking, must be a
// regular file and at most limit bytes (InputError otherwise).
std::optional<std::string> read_if_exists(const std::string& path, std::size_t limit = 16U << 20);

// Removes path and fsyncs its directory; a missing file is not an error.
void remove_durable(const std::string& path);

// fsyncs a directory, so a rename or unlink in it survives a crash.
void sync_directory(const std::string& dir);

// Creates dir (and parents) with mode 0700 when missing.
void ensure_private_directory(const std::string& dir);
// The same with another mode (less the umask).
void ensure_directory(const std::string& dir, mode_t mode);

} // namespace virtsnap::store
