#pragma once
// The chain of backup sets a disk of an incremental set needs. An
// incremental set's disk is one qcow2 layer whose header names its parent
// set's image as "../PARENT_ID/NAME"; the parent is a full set (a flattened
// image, or a kept chain) or another incremental set. Verify and restore see
// such a disk as one kept chain of files (DiskChain::backup), named from
// the set's directory, so the code that proves and reads kept chains
// (copy/source_chain.hpp) serves it unchanged.
//
// Parents are input from outside like any set: each is looked up only as a
// sibling directory of the set, by its set id (store::is_set_id), never
// through a symbolic link; it must be complete, its manifest valid, of the
// same domain (UUID), with the id the child names (which is older: the
// manifest's own check rules loops out), and hold the disk with the same
// size and chunk size, in qcow2, its top file named as the child's layer
// names it. Nothing here opens an image: store/set_images checks their
// headers before any QEMU tool reads them.

#include "store/backup_set.hpp"
#include "xml/manifest.hpp"

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace virtsnap::store {

// More sets below one than this is refused as damage, not followed: a
// backup never writes a longer chain (job::max_chain_incrementals), and
// QEMU's tools open every file of a chain at once.
constexpr std::size_t max_chain_sets = 1000;

// The sets an incremental set depends on, its parent first, down to the
// full set; empty for a set that is not incremental. set_dir is the set's
// directory, manifest its manifest. Throws InputError naming the set and
// what is wrong (a parent missing, a link, incomplete, damaged, of another
// domain, ...).
std::vector<BackupSet> parent_sets(const std::string& set_dir, const xml::Manifest& manifest);

// One disk through its chain of sets.
struct DiskChain {
    std::string target;
    std::uint64_t virtual_size = 0;
    // The set asked for (its path as given, without its manifest: only
    // the disk's own fields and the manifest's scalars are read, so that
    // a manifest whose other disks are being copied meanwhile can be
    // given), then each parent down to the full set; sets.size() ==
    // backups.size().
    std::vector<BackupSet> sets;
    std::vector<xml::DiskBackup> backups; // the disk's backup in each set, as its manifest records

    bool incremental() const noexcept { return sets.size() > 1; }

    // The files of sets[from] and of every set below it, top first, as one
    // kept chain seen from sets[from]'s directory: its own files by their
    // names, the others' as "../SET_ID/NAME". Each file keeps its manifest
    // entry (checksums, backing, backing_set: header_backing says what its
    // header names). For the last set, its backup as recorded; otherwise
    // unflattened. Verifying file i of backup(k) in sets[k].path checks
    // that set's own file exactly as verifying that set alone would.
    xml::DiskBackup backup(std::size_t from = 0) const;

    // Each file of backup(0) with the path it is opened by (sets[0].path +
    // "/" + its name), top first.
    std::vector<std::string> paths() const;
};

// The chain of the disk of the set in set_dir whose manifest is manifest;
// for a disk that is not incremental, that set alone. Of manifest, only
// its scalar fields are read (ids, level, parent, domain). Throws InputError as
// parent_sets does, and when a parent lacks the disk, holds it in another
// size, chunk size or format (raw), or under another name.
DiskChain disk_chain(const std::string& set_dir, const xml::Manifest& manifest,
                     const xml::ManifestDisk& disk);

// Whether the chains of many sets hold, each set below read once: for a
// listing of every set of a domain, where checking each incremental set's
// whole chain afresh would read the manifests of a chain of a thousand
// sets half a million times. The checks and messages are disk_chain's (and
// parent_sets'), each link looked at from the set above it; no image is
// opened (store/set_images checks those).
class ChainCheck {
  public:
    // Empty when disk_chain would accept the chain of every disk of the set
    // in set_dir (whose manifest is manifest) that records a backup, and
    // for a set that names no parent set; else why not, as disk_chain says
    // it. Throws what parent_sets throws besides InputError (a directory
    // that cannot be read: SystemError).
    std::string problem(const std::string& set_dir, const xml::Manifest& manifest);

  private:
    struct Known {
        std::string problem;   // empty: the disk's chain below the set holds
        std::size_t below = 0; // how many sets are below it
    };
    std::string disk_problem(const std::string& set_dir, const xml::Manifest& manifest,
                             const xml::ManifestDisk& disk);
    std::map<std::pair<std::string, std::string>, Known> known_; // by set directory and disk target
};

// What the qcow2 header of a backup file must name as its backing file:
// nothing, the next layer's plain name within its set, or "../SET_ID/NAME"
// for an incremental layer.
std::string header_backing(const xml::BackupFile& file);

} // namespace virtsnap::store
