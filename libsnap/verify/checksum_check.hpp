#pragma once
// Re-hashes a backup file without its source and compares the result with
// the checksums virtsnap-copy recorded, naming each damaged chunk.

#include "verify/image_compare.hpp"
#include "xml/manifest.hpp"

#include <string>

namespace virtsnap::verify {

// path: the file; format: its format; layered: the file is one layer of a
// kept chain (its own clusters are hashed), else the whole disk's content.
CheckOutcome check_checksums(const std::string& path, const std::string& format, bool layered,
                             const xml::BackupFile& recorded, std::uint64_t chunk_size);

// The chunk-by-chunk comparison behind it, for content hashed elsewhere (a
// restore hashes what it writes): ok, or the damaged chunks' offsets.
CheckOutcome compare_checksums(const xml::BackupFile& recorded, const xml::BackupFile& found,
                               std::uint64_t chunk_size);

} // namespace virtsnap::verify
