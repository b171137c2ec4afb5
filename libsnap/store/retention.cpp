#include "store/retention.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <map>

namespace virtsnap::store {

namespace {

std::vector<const BackupSet*> complete_sets(const std::vector<BackupSet>& sets) {
    std::vector<const BackupSet*> complete;
    for (const BackupSet& set : sets)
        if (set.complete && set.manifest)
            complete.push_back(&set);
    return complete;
}

// The restore points --keep keeps: the set just made, then the newest
// others up to keep.
std::vector<const BackupSet*> restore_points(const std::vector<const BackupSet*>& complete, unsigned keep,
                                             const std::string& just_made) {
    if (keep == 0)
        throw util::Error("internal error: retention must keep at least one set");
    std::vector<const BackupSet*> kept;
    for (const BackupSet* set : complete)
        if (set->id == just_made)
            kept.push_back(set);
    for (auto it = complete.rbegin(); it != complete.rend() && kept.size() < keep; ++it)
        if ((*it)->id != just_made)
            kept.push_back(*it);
    return kept;
}

bool contains(const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

} // namespace

std::vector<const BackupSet*> sets_to_remove(const std::vector<BackupSet>& sets, unsigned keep,
                                             const std::string& just_made,
                                             const std::vector<std::string>& pinned) {
    const std::vector<const BackupSet*> complete = complete_sets(sets);
    std::vector<const BackupSet*> kept = restore_points(complete, keep, just_made);
    for (const BackupSet* set : complete)
        if (contains(pinned, set->id) && std::find(kept.begin(), kept.end(), set) == kept.end())
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

MergeChoice set_to_merge(const std::vector<BackupSet>& sets, unsigned keep, const std::string& just_made,
                         const std::vector<std::string>& pinned) {
    const std::vector<const BackupSet*> complete = complete_sets(sets);
    std::vector<const BackupSet*> points = restore_points(complete, keep, just_made);
    std::sort(points.begin(), points.end(),
              [](const BackupSet* a, const BackupSet* b) { return a->id < b->id; });
    const std::string newest = complete.empty() ? "" : complete.back()->id;
    const std::size_t removed = sets_to_remove(sets, keep, just_made, pinned).size();
    MergeChoice choice;
    for (const BackupSet* point : points) {
        if (!point->manifest->on_parent())
            continue;
        // What retention would do were this set a full of its own.
        std::vector<BackupSet> as_full = sets;
        for (BackupSet& set : as_full)
            if (set.id == point->id && set.manifest) {
                set.manifest->level = "full";
                set.manifest->parent.clear();
            }
        if (sets_to_remove(as_full, keep, just_made, pinned).size() <= removed)
            continue;
        const std::string held = "set " + point->id + " keeps the sets below it";
        if (point->id == just_made || point->id == newest) {
            if (choice.why_not.empty())
                choice.why_not = held + ", but it is the newest set, which is never merged";
            continue;
        }
        if (contains(pinned, point->id)) {
            if (choice.why_not.empty())
                choice.why_not =
                    held + ", but it is the set the domain's change record continues, which is never merged";
            continue;
        }
        choice.set = point;
        choice.why_not.clear();
        return choice;
    }
    return choice;
}

} // namespace virtsnap::store
