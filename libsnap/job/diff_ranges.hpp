#pragma once
// What a diff set must hold besides the kept overlay's own clusters: every
// range the sets between the chain's full and the change record's newest
// set changed. Each of those sets' own layers records its ranges (data, and
// zeros that hide older data), so their qcow2 maps are the list; the data
// itself is read from the domain's frozen images, where every merged
// overlay has landed.

#include "image/image_map.hpp"
#include "xml/manifest.hpp"

#include <map>
#include <string>
#include <vector>

namespace virtsnap::job {

// By disk target of manifest (the run's), the ranges the layers of the sets
// from set_id down to its chain's full (not included) hold themselves, in
// domain_dir. Every file of the chain is checked (store::check_chain_images)
// before qemu-img reads its map. Throws InputError naming what is wrong.
std::map<std::string, std::vector<image::Extent>>
changed_since_full(const std::string& domain_dir, const std::string& set_id, const xml::Manifest& manifest);

} // namespace virtsnap::job
