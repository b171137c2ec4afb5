#pragma once
// Re-hashes a backup file without its source and compares the result with
// the checksums virtsnap-copy recorded, naming each damaged chunk.

#include "copy/content_copier.hpp"
#include "copy/source_chain.hpp"
#include "verify/image_compare.hpp"
#include "xml/manifest.hpp"

#include <cstdint>
#include <string>

namespace virtsnap::verify {

// File `index` of the backup in dir (read as a backup set's file: never
// through a link, its chain proven): its own clusters for a layer of a kept
// chain, else the whole disk's content (disk_size bytes).
CheckOutcome check_checksums(const std::string& dir, const xml::DiskBackup& backup, std::size_t index,
                             std::uint64_t disk_size);

// The two halves every re-hash shares: the backup file `index` opened with
// the layers below it (as a backup set's file: never through a link, its
// chain proven), and the hash of what plan names through reader compared
// with what the manifest recorded for that file.
copy::SourceChain open_backup_file(const std::string& dir, const xml::DiskBackup& backup, std::size_t index,
                                   std::uint64_t disk_size);
CheckOutcome hash_and_compare(const copy::CopyPlan& plan, copy::SourceReader& reader,
                              const xml::DiskBackup& backup, std::size_t index);

// The chunk-by-chunk comparison behind it, for content hashed elsewhere (a
// restore hashes what it writes): ok, or the damaged chunks' offsets.
CheckOutcome compare_checksums(const xml::BackupFile& recorded, const xml::BackupFile& found,
                               std::uint64_t chunk_size);

} // namespace virtsnap::verify
