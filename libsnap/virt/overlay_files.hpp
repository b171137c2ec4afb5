#pragma once
// The overlay files of a snapshot, made before the freeze so the snapshot
// call inside the freeze window only opens them (REUSE_EXT). Each is a qcow2
// whose backing file is the frozen image, with its format stated (never
// probed), the disk's virtual size, and mode 0600: it will hold guest data.

#include "xml/manifest.hpp"

namespace virtsnap::virt {

// Creates every overlay of manifest; a file that exists already is an error
// and is left alone. On failure the overlays made so far are removed.
void create_overlay_files(const xml::Manifest& manifest);

} // namespace virtsnap::virt
