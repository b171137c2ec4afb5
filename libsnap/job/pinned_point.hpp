#pragma once
// A restore point held open for a reader that stays (virtsnap-mount): the
// set and every set below it in its chain pinned (store/set_pin.hpp), so
// retention leaves them alone while they are in use, then read and checked
// as restore reads and checks them.

#include "store/backup_set.hpp"
#include "store/set_chain.hpp"
#include "store/set_pin.hpp"
#include "util/log.hpp"

#include <string>
#include <vector>

namespace virtsnap::job {

struct PinnedPoint {
    // Declared first so they are released last, after everything read
    // under them.
    store::SetPin pin;       // the set, before it is read
    store::SetPin pin_below; // the set as read and every set below it (store::pin_chain)
    store::BackupSet set;
    std::vector<const xml::ManifestDisk*> disks; // as chosen, in the manifest's order
    std::vector<store::DiskChain> chains;        // each disk's, checked (store::check_set_images)
};

// Pins set_path before reading a byte of it (a set being removed is
// refused: RefusedError), then reads it (RefusedError when incomplete,
// InputError when damaged), pins the sets below it, and only then checks
// the chains and the images' headers (store::check_set_images), so what is
// checked is what stays pinned. targets: the disks (empty: every one).
PinnedPoint pin_restore_point(const std::string& set_path, const std::vector<std::string>& targets);

// What is damaged among the point's disks: one line per disk whose chain
// does not match its recorded checksums ("disk 'vda' of backup set '...':
// ..."); empty when all match. Reads every file of every chain.
std::vector<std::string> restore_point_damage(const PinnedPoint& point, const util::Log& log);

// The one disk --nbd exports: target, or the set's only disk. UsageError
// naming the set's disks when there are several and none is chosen, or
// more than one is.
std::string nbd_disk(const store::BackupSet& set, const std::vector<std::string>& targets);

} // namespace virtsnap::job
