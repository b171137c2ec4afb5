#include "store/retention.hpp"

#include "util/error.hpp"

#include <algorithm>

namespace virtsnap::store {

std::vector<const BackupSet*> sets_to_remove(const std::vector<BackupSet>& sets, unsigned keep,
                                             const std::string& just_made) {
    if (keep == 0)
        throw util::Error("internal error: retention must keep at least one set");
    std::vector<const BackupSet*> complete;
    for (const BackupSet& set : sets)
        if (set.complete && set.manifest)
            complete.push_back(&set);
    // Kept: the set just made, then the newest others up to keep.
    std::vector<const BackupSet*> kept;
    for (const BackupSet* set : complete)
        if (set->id == just_made)
            kept.push_back(set);
    for (auto it = complete.rbegin(); it != complete.rend() && kept.size() < keep; ++it)
        if ((*it)->id != just_made)
            kept.push_back(*it);
    const std::string newest_complete = complete.empty() ? "" : complete.back()->id;
    std::vector<const BackupSet*> removed;
    for (const BackupSet& set : sets) {
        const bool old_complete =
            set.complete && set.manifest && std::find(kept.begin(), kept.end(), &set) == kept.end();
        const bool stale_incomplete = !set.complete && !newest_complete.empty() && set.id < newest_complete;
        if (old_complete || stale_incomplete)
            removed.push_back(&set);
    }
    return removed;
}

} // namespace virtsnap::store
