#pragma once
// The manifest of a snapshot about to be taken: the domain, a fresh snapshot
// id, and per chosen disk its frozen image, chain, overlay and size.

#include "virt/connection.hpp"
#include "xml/domain_disks.hpp"
#include "xml/manifest.hpp"

#include <string>
#include <vector>

namespace virtsnap::virt {

// "20261122-031500-042-3fa9": the UTC time to the millisecond, so ids (and
// the backup sets named after them) sort in the order they were made, then
// random digits so two runs in the same millisecond never share overlay
// names.
std::string new_snapshot_id();

// offline: for a shut-off domain whose images are copied as they are; no
// overlays are planned.
xml::Manifest build_manifest(const virt::Domain& domain, const std::vector<xml::Disk>& disks,
                             const std::string& snapshot_id, const std::string& overlay_dir,
                             const std::string& block_fallback_dir, bool offline = false);

} // namespace virtsnap::virt
