#pragma once
// What a backup set's images could make a tool read besides themselves.
// Before verify or restore opens a set's image with a QEMU tool (which would
// follow whatever the image names), each is checked here: a regular file in
// the set, reached without a symbolic link, and — for qcow2 — naming no
// external data file and no backing file but the one the manifest records
// (the next layer of a kept chain, by its plain name; none for a flattened
// backup; "../PARENT_ID/NAME" for an incremental layer whose manifest
// records that backing set and name). An incremental disk's whole chain of
// sets (store/set_chain.hpp) is checked, every layer of every set by the
// rule of its own set's manifest. verify and restore run the same check, so
// they agree on a set.

#include "store/backup_set.hpp"
#include "store/set_chain.hpp"

#include <string>
#include <vector>

namespace virtsnap::store {

// Throws InputError naming the first file that fails; returns each disk's
// chain (as disks are ordered), checked, for opening.
std::vector<DiskChain> check_set_images(const BackupSet& set,
                                        const std::vector<const xml::ManifestDisk*>& disks);

// The same for one disk of the manifest whose backup files are in dir (a
// set, or a copy's directory, which a manifest on standard input names).
DiskChain check_backup_files(const std::string& dir, const xml::Manifest& manifest,
                             const xml::ManifestDisk& disk);

// Every file of a resolved chain.
void check_chain_images(const DiskChain& chain);

// A restore never writes into a backup set: new images and a new
// domain.xml there would change a complete set (under --force, replace its
// saved definition or its images), whatever names they take. Throws
// RefusedError when dir (not there yet is fine) is, or is inside, set's
// directory or that of a set below it in chains.
void refuse_set_as_output(const std::string& dir, const BackupSet& set, const std::vector<DiskChain>& chains);

} // namespace virtsnap::store
