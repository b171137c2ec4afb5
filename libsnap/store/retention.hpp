#pragma once
// Which backup sets --keep N removes.

#include "store/backup_set.hpp"

#include <string>
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

// --synthetic-full: the restore point to make a standalone full of, so that
// --keep can remove the sets below it. The oldest of the sets kept as
// restore points (as sets_to_remove counts them) that is an inc or a diff
// and that, as a full, would let sets_to_remove remove more: the chain's full
// is no longer a restore point, but that set needs it. Never just_made, the
// newest complete set or a pinned one (the set a change record continues):
// why_not then says which set would have been made a full, and why it is
// not. {nullptr, ""} when no set keeps sets below it that are no restore
// point.
struct MergeChoice {
    const BackupSet* set = nullptr;
    std::string why_not;
};
MergeChoice set_to_merge(const std::vector<BackupSet>& sets, unsigned keep, const std::string& just_made = "",
                         const std::vector<std::string>& pinned = {});

} // namespace virtsnap::store
