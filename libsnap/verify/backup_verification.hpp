#pragma once
// Verifies the backups a manifest records: against the frozen source while
// the overlays are in place (qemu-img compare), against the recorded
// checksums without the source (re-hashed as the copy engine maps the
// file, or as QEMU does: verify/qemu_checksum_check.hpp), qemu-img check of qcow2 files, and the
// guest filesystems through libguestfs. Every result is added to the
// manifest as a <verification>. virtsnap-verify and virtsnap-backup share it.

#include "util/log.hpp"
#include "xml/manifest.hpp"

#include <string>
#include <vector>

namespace virtsnap::verify {

struct VerifySettings {
    std::string dir; // the backup directory; empty: the manifest's
    bool source = false;
    bool checksums = false;
    bool qemu_checksums = false; // the checksums of each file where QEMU maps its content
    // Compare a kept chain with its source even without `source`: a zero
    // cluster of a layer that hides backing data is in no checksum (zeros
    // are left out), so only the comparison checks it.
    bool source_for_kept_chains = false;
    bool filesystems = false;
    // An incremental set's disks: also check every set below it, down to the
    // full set, each layer against its own set's manifest (checksums,
    // qcow2 structure, as asked; never the source). Its results are logged,
    // and a mismatch fails the verification, but only the set's own
    // manifest records verifications.
    bool chain = false;
};

// Whether verify_disk reads the disk's frozen image (compares the copy with
// it); else it reads the backup alone, and the frozen image may change
// meanwhile. disk.backup must be set.
bool reads_source(const xml::ManifestDisk& disk, const VerifySettings& settings);

// Throws VerificationMismatch naming the first failed check (and how many
// more) when any check fails; InputError when the manifest records no backup.
void verify_backup(xml::Manifest& manifest, const VerifySettings& settings, const util::Log& log);

// The checks that failed so far, one line each ("disk 'vda': ...").
using Mismatches = std::vector<std::string>;

// The checks of manifest.disks[index] (source, qcow2 structure, checksums,
// checksums as QEMU maps the files, as settings ask; the filesystem check
// covers all disks at once and is not among them), recorded in its
// <verification>s. settings.dir must be set. An incremental set's disk is
// checked on its own layer, opened with the sets below it
// (store/set_chain.hpp); settings.chain is not looked at here.
void verify_disk(xml::Manifest& manifest, std::size_t index, const VerifySettings& settings,
                 Mismatches& found, const util::Log& log);

// Throws VerificationMismatch naming the first of found, and how many more.
void throw_if_mismatched(const Mismatches& found);

} // namespace virtsnap::verify
