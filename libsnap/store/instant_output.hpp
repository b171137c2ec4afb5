#pragma once
// Where an instant restore may put the domain's own images. They are
// written by a running guest for as long as it lives; inside the backup's
// storage they would be taken for part of it (or removed with a set) and a
// restore's writes would land where backups are kept. So the output
// directory may be neither the directory of the set's domain (DEST/DOMAIN,
// which holds the set and every set below it) nor anything inside it.

#include "store/instant_record.hpp"

#include <string>
#include <vector>

namespace virtsnap::store {

// dir as it will be once created: its longest existing prefix resolved
// (links, "..") and the rest appended.
std::string resolved_future_path(const std::string& dir);

// Throws RefusedError naming both when output_dir (resolved as above) is a
// set directory's parent or lies inside it. set_dirs are resolved.
void refuse_output_on_set_storage(const std::string& output_dir, const std::vector<std::string>& set_dirs);

// Before any QEMU tool follows its header, an instant restore's own image
// (DIR/TARGET.qcow2) must still be a regular file naming the set's image it
// was created on as its backing file (or none, once standalone), and no
// external data file. DIR may be writable by others: an image put in its
// place naming a host file would have --finish copy that file in. Throws
// InputError naming the image.
void check_instant_image(const InstantRecord::Disk& disk);

} // namespace virtsnap::store
