#pragma once
// Checks made before the domain is touched (virtsnap-create(1)): each
// overlay's directory exists and is writable, no overlay file exists yet, and
// each filesystem holding overlays has room for their expected growth.

#include "xml/manifest.hpp"

#include <cstdint>
#include <optional>

namespace virtsnap::virt {

// overlay_space: the free space each overlay filesystem must have; nullopt:
// 10% of the virtual size of the disks whose overlays it holds, at least
// 64 MiB. Throws RefusedError stating the figure.
void check_overlay_locations(const xml::Manifest& manifest, std::optional<std::uint64_t> overlay_space);

} // namespace virtsnap::virt
