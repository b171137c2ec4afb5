#include "job/pinned_point.hpp"

#include "job/restore_disks.hpp"
#include "store/set_images.hpp"
#include "util/error.hpp"
#include "verify/chain_checksums.hpp"

namespace virtsnap::job {

using util::quoted;

PinnedPoint pin_restore_point(const std::string& set_path, const std::vector<std::string>& targets) {
    PinnedPoint point;
    point.pin = store::SetPin({set_path});
    point.set = store::read_set(set_path);
    point.disks = chosen_disks(point.set, targets);
    point.pin_below = store::pin_chain(point.set.path, *point.set.manifest);
    // Read again under the pins: a parent replaced between the two reads
    // (a synthetic full) is what is checked and shown.
    point.chains = store::check_set_images(point.set, point.disks);
    return point;
}

std::vector<std::string> restore_point_damage(const PinnedPoint& point, const util::Log& log) {
    std::vector<std::string> damaged;
    for (const store::DiskChain& chain : point.chains) {
        log.debug("checking the checksums of disk " + quoted(chain.target) + " through " +
                  std::to_string(chain.sets.size()) + " set(s)");
        const std::string damage = verify::chain_damage(chain);
        if (!damage.empty())
            damaged.push_back("disk " + quoted(chain.target) + " of backup set " + quoted(point.set.path) +
                              ": " + damage);
    }
    return damaged;
}

std::string nbd_disk(const store::BackupSet& set, const std::vector<std::string>& targets) {
    std::string held;
    for (const xml::ManifestDisk& disk : set.manifest->disks)
        held += (held.empty() ? "" : ", ") + disk.target;
    if (targets.size() > 1)
        throw util::UsageError("--nbd exports one disk; choose one -d of " + held);
    if (!targets.empty())
        return targets.front();
    if (set.manifest->disks.size() != 1)
        throw util::UsageError("backup set " + quoted(set.path) + " holds several disks (" + held +
                               "); choose the one --nbd exports with -d");
    return set.manifest->disks.front().target;
}

} // namespace virtsnap::job
