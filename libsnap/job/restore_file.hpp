#pragma once
// One file from inside a backup, through libguestfs with the set's images
// read-only: the guest's filesystems are found by inspection (an installed
// OS and its mount points) or, for a disk with bare filesystems, by looking
// for the file in each.

#include "store/backup_set.hpp"
#include "util/log.hpp"

#include <string>
#include <vector>

namespace virtsnap::job {

// Writes guest_path's content to host_path (mode 0600, through
// host_path.partial). The set's images are checked first as for any
// restore (store/set_images.hpp). InputError when no filesystem holds the
// file, or several do (then --disk chooses).
void restore_file(const store::BackupSet& set, const std::vector<const xml::ManifestDisk*>& disks,
                  const std::string& guest_path, const std::string& host_path, bool force,
                  const util::Log& log);

} // namespace virtsnap::job
