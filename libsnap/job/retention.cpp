#include "job/retention.hpp"

#include "store/backup_set.hpp"
#include "store/retention.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <set>

namespace virtsnap::job {

using util::quoted;

void remove_incomplete_sets(const std::string& domain_dir, const util::Log& log) {
    for (const store::BackupSet& set : store::list_domain_sets(domain_dir))
        if (!set.complete) {
            log.info("removing the incomplete backup set " + quoted(set.path) + " left by a run that died");
            try {
                store::remove_set(set.path);
            } catch (const util::RefusedError& error) {
                log.warn(error.what());
            }
        }
}

std::size_t apply_retention(const std::string& domain_dir, unsigned keep, const std::string& just_made,
                            const util::Log& log, const std::vector<std::string>& pinned) {
    std::vector<store::BackupSet> sets = store::list_domain_sets(domain_dir);
    const std::vector<const store::BackupSet*> doomed = store::sets_to_remove(sets, keep, just_made, pinned);
    std::size_t kept = 0;
    for (const store::BackupSet& set : sets)
        if (set.complete && set.manifest && std::find(doomed.begin(), doomed.end(), &set) == doomed.end())
            ++kept;
    if (kept > keep)
        log.info("--keep " + std::to_string(keep) + ": keeping " + std::to_string(kept) +
                 " complete sets of " + quoted(domain_dir) +
                 ", as kept incremental sets depend on older ones");
    // The newest first, so that a set is removed only after the sets above
    // it: a run killed in between leaves no set whose parent is gone. A set
    // that stays after all (refused: it holds files virtsnap never writes)
    // keeps the sets it depends on.
    std::set<std::string> still_needed;
    std::size_t removed = 0;
    for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) {
        const store::BackupSet* set = *it;
        const bool on_parent = set->manifest && set->manifest->on_parent();
        if (still_needed.count(set->id) > 0) {
            log.warn("--keep " + std::to_string(keep) + ": keeping backup set " + quoted(set->path) +
                     ", as a set that could not be removed depends on it");
            if (on_parent)
                still_needed.insert(set->manifest->parent);
            continue;
        }
        log.info("--keep " + std::to_string(keep) + ": removing backup set " + quoted(set->path));
        try {
            store::remove_set(set->path);
            ++removed;
        } catch (const util::RefusedError& error) {
            log.warn(error.what());
            if (on_parent)
                still_needed.insert(set->manifest->parent);
        }
    }
    return removed;
}

} // namespace virtsnap::job
