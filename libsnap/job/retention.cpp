#include "job/retention.hpp"

#include "store/backup_set.hpp"
#include "store/retention.hpp"
#include "util/error.hpp"

namespace virtsnap::job {

using util::quoted;

void remove_incomplete_sets(const std::string& domain_dir, const util::Log& log) {
    for (const store::BackupSet& set : store::list_domain_sets(domain_dir))
        if (!set.complete) {
            log.info("removing the incomplete backup set " + quoted(set.path) + " left by a run that died");
            store::remove_set(set.path);
        }
}

std::size_t apply_retention(const std::string& domain_dir, unsigned keep, const util::Log& log) {
    std::vector<store::BackupSet> sets = store::list_domain_sets(domain_dir);
    std::size_t removed = 0;
    for (const store::BackupSet* set : store::sets_to_remove(sets, keep)) {
        log.info("--keep " + std::to_string(keep) + ": removing backup set " + quoted(set->path));
        store::remove_set(set->path);
        ++removed;
    }
    return removed;
}

} // namespace virtsnap::job
