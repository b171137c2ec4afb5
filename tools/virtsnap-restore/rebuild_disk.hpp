#pragma once
// Rebuilds one disk from a backup set as a standalone image, checking its
// content against the checksums the backup recorded as it is written: a
// restore never hands back an image that differs from what was backed up.

#include "copy/disk_copy.hpp"
#include "store/backup_set.hpp"
#include "util/log.hpp"

#include <string>

namespace virtsnap::restore {

// Writes DIR/TARGET.FORMAT (format: "qcow2" or "raw"). Throws
// VerificationMismatch naming the damaged chunks; the file is then removed
// with everything else in created.
std::string rebuild_disk(const store::BackupSet& set, const xml::ManifestDisk& disk, const std::string& dir,
                         const std::string& format, copy::CreatedFiles& created, const util::Log& log);

} // namespace virtsnap::restore
