#pragma once
// Instant restore: a backup set's disks become qcow2 images in a directory,
// each backed by the set's image (by absolute path, its format given), the
// set's definition is defined as a new domain on them (as restore --define
// does: job/restore_disks.hpp) and started at once; then every disk's data
// is pulled into its own image while the guest runs (virt/block_pull.hpp).
// The sets are pinned (store/set_pin.hpp) while this process runs, and named
// by a durable record (store/instant_record.hpp) until the images stand
// alone, so retention keeps them and 'virtsnap-restore --finish NAME'
// completes a restore whose process was killed or whose host rebooted.
//
// Content checksums are checked on a thread beside the pulls, not before
// the start (which would cost a read of the whole set first): a mismatch
// is reported at the end (VerificationMismatch) with the domain left
// running on its own, by then standalone, images.

#include "job/restore_disks.hpp"
#include "store/backup_set.hpp"
#include "store/instant_record.hpp"
#include "util/log.hpp"
#include "virt/connection.hpp"

#include <string>

namespace virtsnap::job {

struct InstantSettings {
    RestoreSettings restore; // output_dir, define_name and connect_uri are used
    std::string state_dir;
    unsigned long bandwidth_mib = 0; // per disk; 0: as fast as the storage allows
};

// Refuses before any change (RefusedError; InputError for a set that is
// not sound): a name in use or with a record already, an output directory
// on the set's storage (store/instant_output.hpp), an image already there.
void instant_restore(const store::BackupSet& set, const InstantSettings& settings, const util::Log& log);

// --finish: completes the restore the record of name describes; false
// when there is no record (nothing to do).
bool finish_instant(const std::string& name, const InstantSettings& settings, const util::Log& log);

// The end of both: waits for the pulls that run, starts those a running
// domain lacks, rebases the images of a shut-off (or undefined) domain
// offline; then checks that no image has a backing file and no definition
// names a set, gives the set files their recorded owners back and removes
// the record. Interrupted names --finish.
void complete_instant(const store::InstantRecord& record, const virt::Connection& conn,
                      const InstantSettings& settings, const util::Log& log);

} // namespace virtsnap::job
