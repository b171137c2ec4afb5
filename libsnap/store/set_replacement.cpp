#include "store/set_replacement.hpp"

#include "store/backup_set.hpp"
#include "store/durable_file.hpp"
#include "store/set_layout.hpp"
#include "util/error.hpp"
#include "util/pause_point.hpp"

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>

namespace virtsnap::store {

using util::quoted;
using util::SystemError;

namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Whether the work directory holds what the swap puts in place: a complete
// full set of the same id (read as strictly as any set).
bool complete_replacement(const std::string& work, const std::string& id) {
    if (!is_directory(work) || !has_marker(work))
        return false;
    try {
        const BackupSet set = read_set(work);
        return set.manifest->snapshot_id == id && set.manifest->level == "full";
    } catch (const util::InputError&) {
        return false;
    } catch (const util::RefusedError&) {
        return false;
    }
}

void rename_durably(const std::string& from, const std::string& to, const std::string& domain_dir) {
    // A name in the way (even an empty directory, which rename would
    // replace) is never overwritten.
    if (exists(to))
        throw SystemError("cannot rename " + quoted(from) + " to " + quoted(to), EEXIST);
    if (::rename(from.c_str(), to.c_str()) != 0)
        throw SystemError("cannot rename " + quoted(from) + " to " + quoted(to), errno);
    sync_directory(domain_dir);
}

} // namespace

std::string swap_in_replacement(const std::string& domain_dir, const std::string& id, bool exchange) {
    const std::string set = domain_dir + "/" + id;
    std::string work = domain_dir + "/" + synthetic_work_name(id);
    if (!is_directory(set) || !is_directory(work))
        throw util::Error("internal error: " + quoted(set) + " and " + quoted(work) +
                          " are not both directories");
    if (exchange) {
        if (::renameat2(AT_FDCWD, work.c_str(), AT_FDCWD, set.c_str(), RENAME_EXCHANGE) == 0) {
            sync_directory(domain_dir);
            return work;
        }
        if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            throw SystemError("cannot exchange " + quoted(work) + " with " + quoted(set), errno);
    }
    std::string aside = domain_dir + "/" + synthetic_aside_name(id);
    rename_durably(set, aside, domain_dir);
    util::pause_point("synthetic-moved-aside");
    try {
        rename_durably(work, set, domain_dir);
    } catch (const SystemError& error) {
        try {
            rename_durably(aside, set, domain_dir);
        } catch (const SystemError&) {
            throw SystemError(std::string(error.what()) + "; set " + id + " waits as " + quoted(aside) +
                                  " until the next backup of the domain puts it back",
                              error.error_number());
        }
        throw;
    }
    return aside;
}

ReplacementRepair finish_replacements(const std::string& domain_dir) {
    ReplacementRepair repair;
    std::set<std::string> ids;
    for (const std::string& name : directory_names(domain_dir).value_or(std::vector<std::string>{}))
        if (std::optional<SyntheticName> parsed = parse_synthetic_name(name))
            ids.insert(parsed->set_id);
    for (const std::string& id : ids) {
        const std::string set = domain_dir + "/" + id;
        const std::string work = domain_dir + "/" + synthetic_work_name(id);
        const std::string aside = domain_dir + "/" + synthetic_aside_name(id);
        // Killed between the two renames of a swap: the set's name is free.
        if (!exists(set) && is_directory(aside)) {
            if (complete_replacement(work, id)) {
                rename_durably(work, set, domain_dir);
                repair.done.push_back("finished replacing backup set " + quoted(set) +
                                      " with its synthetic full (a run was killed midway)");
            } else {
                rename_durably(aside, set, domain_dir);
                repair.done.push_back("put backup set " + quoted(set) +
                                      " back (a run was killed midway through replacing it)");
            }
        }
        for (const std::string& path : {work, aside}) {
            if (!exists(path))
                continue;
            if (!is_directory(path)) {
                repair.left.push_back(quoted(path) +
                                      " is not a directory virtsnap made; it is left as it is");
                continue;
            }
            try {
                remove_set(path);
                repair.done.push_back("removed " + quoted(path) +
                                      ", left by a --synthetic-full run that died");
            } catch (const util::RefusedError& error) {
                repair.left.push_back(error.what());
            }
        }
    }
    return repair;
}

} // namespace virtsnap::store
