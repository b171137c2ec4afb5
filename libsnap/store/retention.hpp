#pragma once
// Which backup sets --keep N removes.

#include "store/backup_set.hpp"

#include <vector>

namespace virtsnap::store {

// The sets --keep N removes, oldest first: complete sets beyond the newest
// keep complete ones (never the only complete one: keep is at least 1), and
// incomplete sets older than the newest complete one (left by runs that
// died). Sets another kept set depends on would be kept, but every set
// virtsnap writes today is a full backup that depends on none.
// just_made is never removed and counts as one of the keep (a set dated in
// the future, by a clock that ran ahead, cannot push it out).
std::vector<const BackupSet*> sets_to_remove(const std::vector<BackupSet>& sets, unsigned keep,
                                             const std::string& just_made = "");

} // namespace virtsnap::store
