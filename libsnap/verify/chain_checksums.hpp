#pragma once
// A disk's chain of backup files re-hashed against the checksums recorded
// for it: every file of every set of the chain (store/set_chain.hpp),
// each against its own set's manifest, as verifying each set alone would
// check it. What restore checks before it publishes a disk and what
// virtsnap-mount checks before it shows one.

#include "store/set_chain.hpp"

#include <string>

namespace virtsnap::verify {

// Empty when every file matches its checksums; else the first damage
// found, for a message naming the disk ("in its parent set ID: chunk at
// ... differs"). The images must have been checked first
// (store::check_set_images). Reads every file of the chain once.
std::string chain_damage(const store::DiskChain& chain);

} // namespace virtsnap::verify
