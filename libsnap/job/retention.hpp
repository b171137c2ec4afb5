#pragma once
// Cleaning a domain's directory of sets: the incomplete sets runs that died
// left, and the complete sets --keep no longer keeps. The caller holds the
// domain's lock, so no set found incomplete is another run's work.

#include "util/log.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace virtsnap::job {

void remove_incomplete_sets(const std::string& domain_dir, const util::Log& log);

// Returns how many sets were removed; just_made (a set id) is never one.
// pinned: as store::sets_to_remove. The newest are removed first, so that
// a run killed midway leaves no set without its parent; a set that cannot
// be removed (store::remove_set refuses it) keeps the sets below it.
std::size_t apply_retention(const std::string& domain_dir, unsigned keep, const std::string& just_made,
                            const util::Log& log, const std::vector<std::string>& pinned = {});

} // namespace virtsnap::job
