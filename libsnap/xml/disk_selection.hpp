#pragma once
// Which disks a run snapshots (virtsnap-create(1) --disk): every eligible disk, or those
// named with --disk, minus --exclude-disk. Skipped disks are reported with
// their reason; a network disk that is not excluded is refused, because
// leaving it out silently would make an incomplete backup look complete.

#include "xml/domain_disks.hpp"

#include <string>
#include <vector>

namespace virtsnap::xml {

struct DiskSelection {
    std::vector<Disk> chosen;
    std::vector<std::string> notes; // "disk 'hdc' skipped: ..." per disk left out
};

// Throws UsageError for a target the domain does not have, RefusedError for
// a chosen or unexcluded disk virtsnap cannot snapshot, or when nothing is
// left to snapshot.
DiskSelection select_disks(const std::vector<Disk>& disks, const std::vector<std::string>& include,
                           const std::vector<std::string>& exclude, const std::string& domain_name);

} // namespace virtsnap::xml
