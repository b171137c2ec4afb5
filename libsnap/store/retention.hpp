#pragma once
// Which backup sets --keep N removes.

#include "store/backup_set.hpp"

#include <vector>

namespace virtsnap::store {

// The sets --keep N removes, oldest first: complete sets beyond the newest
// keep complete ones (never the only complete one: keep is at least 1), and
// incomplete sets older than the newest complete one (left by runs that
// died). keep counts restore points, but a set a kept incremental set
// depends on (its parent, transitively) is never removed: more than keep
// complete sets may stay while a chain needs them.
// just_made is never removed and counts as one of the keep (a set dated in
// the future, by a clock that ran ahead, cannot push it out).
// pinned: sets kept whatever their age, with the sets below them (the set a
// domain's change record continues: the next incremental's parent).
std::vector<const BackupSet*> sets_to_remove(const std::vector<BackupSet>& sets, unsigned keep,
                                             const std::string& just_made = "",
                                             const std::vector<std::string>& pinned = {});

} // namespace virtsnap::store
