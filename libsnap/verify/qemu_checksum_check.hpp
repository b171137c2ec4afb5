#pragma once
// Re-hashes a backup file where QEMU maps its content and compares the
// result with the checksums virtsnap-copy took from the source while
// copying: one read of the copy, where comparing with the frozen source
// (qemu-img compare) reads the source and the copy again.

#include "verify/image_compare.hpp"
#include "xml/manifest.hpp"

#include <cstdint>
#include <string>

namespace virtsnap::verify {

// File `index` of the backup in dir (its files already checked: no links,
// no external data file, no backing file but the next layer), its chain
// proven as check_checksums proves it: its own clusters for a layer of a
// kept chain, else the whole disk's content (disk_size bytes).
CheckOutcome check_checksums_as_qemu_maps(const std::string& dir, const xml::DiskBackup& backup,
                                          std::size_t index, std::uint64_t disk_size);

} // namespace virtsnap::verify
