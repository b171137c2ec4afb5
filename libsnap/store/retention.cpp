#include "store/retention.hpp"

#include "util/error.hpp"

#include <algorithm>

namespace virtsnap::store {

std::vector<const BackupSet*> sets_to_remove(const std::vector<BackupSet>& sets, unsigned keep) {
    if (keep == 0)
        throw util::Error("internal error: retention must keep at least one set");
    std::vector<const BackupSet*> complete;
    for (const BackupSet& set : sets)
        if (set.complete && set.manifest)
            complete.push_back(&set);
    std::vector<const BackupSet*> removed;
    const std::string newest_complete = complete.empty() ? "" : complete.back()->id;
    const size_t excess = complete.size() > keep ? complete.size() - keep : 0;
    for (const BackupSet& set : sets) {
        const bool old_complete =
            set.complete && set.manifest &&
            std::find(complete.begin(), complete.begin() + static_cast<std::ptrdiff_t>(excess), &set) !=
                complete.begin() + static_cast<std::ptrdiff_t>(excess);
        const bool stale_incomplete = !set.complete && !newest_complete.empty() && set.id < newest_complete;
        if (old_complete || stale_incomplete)
            removed.push_back(&set);
    }
    return removed;
}

} // namespace virtsnap::store
