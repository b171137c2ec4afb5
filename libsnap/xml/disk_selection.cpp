#include "xml/disk_selection.hpp"

#include "util/error.hpp"

#include <algorithm>

namespace virtsnap::xml {

using util::quoted;

namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

void check_known(const std::vector<Disk>& disks, const std::vector<std::string>& targets, const char* option,
                 const std::string& domain_name) {
    for (const std::string& target : targets) {
        bool known =
            std::any_of(disks.begin(), disks.end(), [&](const Disk& d) { return d.target == target; });
        if (known)
            continue;
        std::string names;
        for (const Disk& disk : disks)
            names += (names.empty() ? "" : ", ") + disk.target;
        throw util::UsageError(std::string(option) + " " + quoted(target) + ": domain " +
                               quoted(domain_name) +
                               " has no such disk (its disks: " + (names.empty() ? "none" : names) + ")");
    }
}

} // namespace

DiskSelection select_disks(const std::vector<Disk>& disks, const std::vector<std::string>& include,
                           const std::vector<std::string>& exclude, const std::string& domain_name) {
    check_known(disks, include, "--disk", domain_name);
    check_known(disks, exclude, "--exclude-disk", domain_name);
    DiskSelection selection;
    std::string refused;
    for (const Disk& disk : disks) {
        const std::string name = "disk " + quoted(disk.target);
        if (contains(exclude, disk.target)) {
            selection.notes.push_back(name + " skipped: excluded by --exclude-disk");
            continue;
        }
        if (!include.empty() && !contains(include, disk.target)) {
            selection.notes.push_back(name + " skipped: not named by --disk");
            continue;
        }
        if (disk.eligibility == Eligibility::eligible) {
            selection.chosen.push_back(disk);
        } else if (disk.eligibility == Eligibility::skipped && include.empty()) {
            selection.notes.push_back(name + " skipped: " + disk.reason);
        } else {
            refused += (refused.empty() ? "" : "; ") + name + ": " + disk.reason;
        }
    }
    if (!refused.empty())
        throw util::RefusedError("domain " + quoted(domain_name) + ": cannot snapshot " + refused +
                                 " (leave such disks out with --exclude-disk)");
    if (selection.chosen.empty())
        throw util::RefusedError("domain " + quoted(domain_name) + " has no disk to snapshot");
    return selection;
}

} // namespace virtsnap::xml
