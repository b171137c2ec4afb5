#include "store/retention.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <map>

namespace virtsnap::store {

std::vector<const BackupSet*> sets_to_remove(const std::vector<BackupSet>& sets, unsigned keep,
                                             const std::string& just_made,
                                             const std::vector<std::string>& pinned) {
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
    for (const BackupSet* set : complete)
        if (std::find(pinned.begin(), pinned.end(), set->id) != pinned.end() &&
            std::find(kept.begin(), kept.end(), set) == kept.end())
            kept.push_back(set);
    // A kept incremental set needs every set below it: those stay too,
    // whatever their age (a set no kept one depends on is not kept for it).
    std::map<std::string, const BackupSet*> by_id;
    for (const BackupSet* set : complete)
        by_id[set->id] = set;
    for (std::size_t i = 0; i < kept.size(); ++i) {
        const xml::Manifest& manifest = *kept[i]->manifest;
        if (!manifest.on_parent())
            continue;
        auto parent = by_id.find(manifest.parent);
        if (parent != by_id.end() && std::find(kept.begin(), kept.end(), parent->second) == kept.end())
            kept.push_back(parent->second);
    }
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
