#include "job/restore_point.hpp"

#include "job/set_listing.hpp"
#include "store/backup_set.hpp"
#include "store/set_layout.hpp"
#include "util/error.hpp"

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <sys/stat.h>

namespace virtsnap::job {

using util::quoted;

namespace {

// domain_dir, resolved: a directory that is not a backup set.
std::string checked_domain_dir(const std::string& domain_dir) {
    struct stat st {};
    if (::stat(domain_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw util::InputError(quoted(domain_dir) + " is not a directory of backup sets");
    for (const char* name : {store::set_manifest_file, store::set_marker_file})
        if (::lstat((domain_dir + "/" + name).c_str(), &st) == 0)
            throw util::UsageError(quoted(domain_dir) +
                                   " is a backup set, not a domain's directory of sets (" +
                                   "restore it without --until, or give the directory it is in)");
    std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(domain_dir.c_str(), nullptr), &std::free);
    if (!resolved)
        throw util::SystemError("cannot resolve " + quoted(domain_dir), errno);
    return resolved.get();
}

// The newest set a listing shows complete with no failed check.
// shown: the directory as given, for messages.
std::string latest_set(const std::string& dir, const std::string& shown, const util::Log& log) {
    const std::vector<store::BackupSet> sets = store::list_domain_sets(dir);
    const std::vector<SetRow> rows = set_rows(sets);
    for (auto row = rows.rbegin(); row != rows.rend(); ++row) {
        if (row->state == "complete" && row->verified != "mismatch") {
            log.info("the newest restore point in " + quoted(shown) + " is set " + row->id);
            return row->id;
        }
        const std::string why = row->state == "complete" ? "it records a failed check"
                                : row->problem.empty()   ? row->state
                                                         : row->state + ": " + row->problem;
        log.warn("set " + row->id + " is passed over as the latest restore point: " + why);
    }
    throw util::InputError(quoted(shown) + " holds no complete backup set whose checks passed");
}

} // namespace

std::string restore_point(const std::string& domain_dir, const std::string& until, const util::Log& log) {
    const bool latest = until == latest_restore_point;
    if (!latest && !store::is_set_id(until))
        throw util::UsageError("--until " + quoted(until) +
                               " is neither a set id (such as 20261122-031500-042-3fa9) nor latest");
    const std::string dir = checked_domain_dir(domain_dir);
    const std::string id = latest ? latest_set(dir, domain_dir, log) : until;
    std::string path = dir + "/" + id;
    const std::string it = "set " + id + " of " + quoted(domain_dir) + " (" + quoted(path) + ")";
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            throw util::InputError(quoted(domain_dir) + " holds no backup set " + id);
        throw util::SystemError("cannot inspect " + quoted(path), errno);
    }
    if (S_ISLNK(st.st_mode))
        throw util::InputError(it + " is a symbolic link; a set is never looked for elsewhere");
    if (!S_ISDIR(st.st_mode))
        throw util::InputError(it + " is not a directory");
    return path;
}

} // namespace virtsnap::job
