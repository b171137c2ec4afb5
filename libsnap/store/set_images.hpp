#pragma once
// What a backup set's images could make a tool read besides themselves.
// Before verify or restore opens a set's image with a QEMU tool (which would
// follow whatever the image names), each is checked here: a regular file in
// the set, reached without a symbolic link, and — for qcow2 — naming no
// external data file and no backing file but the one the manifest records
// (the next layer of a kept chain, by its plain name; none for a flattened
// backup). verify and restore run the same check, so they agree on a set.

#include "store/backup_set.hpp"

#include <vector>

namespace virtsnap::store {

// Throws InputError naming the first file that fails.
void check_set_images(const BackupSet& set, const std::vector<const xml::ManifestDisk*>& disks);

// The same for the backup files of one disk in a directory (a copy's
// directory, which a manifest on standard input names).
void check_backup_files(const std::string& dir, const xml::ManifestDisk& disk);

} // namespace virtsnap::store
