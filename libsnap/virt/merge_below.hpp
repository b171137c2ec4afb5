#pragma once
// The second half of an incremental (or of a full on a tracked domain):
// each disk runs on `own image <- kept overlay (frozen) <- new overlay`, the
// kept overlay has been copied, and it must now go — merged into the image
// below it with a non-active shallow block commit (no pivot: the new
// overlay stays on top and QEMU rewrites its backing name), then deleted.
// A shut-off domain's is merged with `qemu-img commit` and the overlay above
// rebased onto the image below without copying (the content is the same).
//
// Per disk it looks at where the domain really is: a disk whose chain no
// longer holds the kept overlay has nothing to merge (a retry after a crash);
// a disk on anything but the new overlay is refused. The kept overlay is
// deleted only when its name is that of snapshot `below`'s overlay of that
// disk and neither the domain nor the new overlay's header names it.

#include "util/log.hpp"
#include "virt/connection.hpp"
#include "virt/merge_overlays.hpp"
#include "xml/snapshot_disk.hpp"

#include <string>
#include <vector>

namespace virtsnap::virt {

// disks: as the snapshot recorded them (frozen = the kept overlay of
// snapshot below, overlay = the new one, chain[0] = the disk's own image).
// Disks whose frozen image is not an overlay of snapshot below are left
// alone. Throws (naming the disks) when any disk could not be merged; the
// domain then still runs on a consistent chain.
void merge_kept_overlays(const Connection& conn, const Domain& domain, const std::string& below,
                         const std::vector<xml::SnapshotDisk>& disks, const MergeSettings& settings,
                         const util::Log& log);

} // namespace virtsnap::virt
