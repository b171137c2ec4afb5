#pragma once
// The manifest of a snapshot about to be taken: the domain, a fresh snapshot
// id, and per chosen disk its frozen image, chain, overlay and size.

#include "virt/connection.hpp"
#include "xml/domain_disks.hpp"
#include "xml/manifest.hpp"

#include <string>
#include <vector>

namespace virtsnap::virt {

// "20261122-031500-3fa9": the time, then random digits so two runs in the
// same second never share overlay names.
std::string new_snapshot_id();

xml::Manifest build_manifest(const virt::Domain& domain, const std::vector<xml::Disk>& disks,
                             const std::string& snapshot_id, const std::string& overlay_dir,
                             const std::string& block_fallback_dir);

} // namespace virtsnap::virt
