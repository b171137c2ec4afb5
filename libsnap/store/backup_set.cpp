#include "store/backup_set.hpp"

#include "store/durable_file.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::store {

using util::quoted;

namespace {

struct DirCloser {
    void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Names in dir (not "." or ".."); nullopt when dir does not exist.
std::optional<std::vector<std::string>> entries(const std::string& dir) {
    DirPtr handle(::opendir(dir.c_str()));
    if (!handle) {
        if (errno == ENOENT)
            return std::nullopt;
        throw util::SystemError("cannot read the directory " + quoted(dir), errno);
    }
    std::vector<std::string> names;
    errno = 0;
    while (dirent* entry = ::readdir(handle.get())) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..")
            names.push_back(name);
    }
    if (errno != 0)
        throw util::SystemError("cannot read the directory " + quoted(dir), errno);
    std::sort(names.begin(), names.end());
    return names;
}

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace

std::string domain_sets_dir(const std::string& dest, const std::string& domain_name) {
    return dest + "/" + domain_name;
}

std::vector<BackupSet> list_domain_sets(const std::string& domain_dir) {
    std::vector<BackupSet> sets;
    std::optional<std::vector<std::string>> names = entries(domain_dir);
    if (!names)
        return sets;
    const std::string domain = domain_dir.substr(domain_dir.find_last_of('/') + 1);
    for (const std::string& name : *names) {
        const std::string path = domain_dir + "/" + name;
        if (!xml::is_valid_snapshot_id(name) || !is_directory(path))
            continue;
        BackupSet set;
        set.domain = domain;
        set.id = name;
        set.path = path;
        set.complete = ::access((path + "/" + set_marker_file).c_str(), F_OK) == 0;
        if (set.complete) {
            const std::string manifest_path = path + "/" + set_manifest_file;
            try {
                std::optional<std::string> text = read_if_exists(manifest_path);
                if (!text)
                    set.problem = "its manifest is missing";
                else
                    set.manifest = xml::parse_manifest(*text, "manifest " + quoted(manifest_path));
            } catch (const util::Error& error) {
                set.problem = error.what();
            }
        }
        sets.push_back(std::move(set));
    }
    return sets;
}

BackupSet read_set(const std::string& path) {
    if (!is_directory(path) || ::access((path + "/" + set_manifest_file).c_str(), F_OK) != 0)
        throw util::InputError(quoted(path) + " is not a backup set (no " + set_manifest_file + " in it)");
    BackupSet set;
    set.path = path;
    const size_t slash = path.find_last_of('/');
    set.id = slash == std::string::npos ? path : path.substr(slash + 1);
    set.complete = ::access((path + "/" + set_marker_file).c_str(), F_OK) == 0;
    if (!set.complete)
        throw util::RefusedError(
            "backup set " + quoted(path) +
            " is incomplete (the run that wrote it did not finish); it is never restored");
    const std::string manifest_path = path + "/" + set_manifest_file;
    std::optional<std::string> text = read_if_exists(manifest_path);
    if (!text)
        throw util::InputError(quoted(path) + " is not a backup set (no " + set_manifest_file + " in it)");
    set.manifest = xml::parse_manifest(*text, "manifest " + quoted(manifest_path));
    set.domain = set.manifest->domain_name;
    for (const xml::ManifestDisk& disk : set.manifest->disks)
        if (!disk.backup)
            throw util::InputError("backup set " + quoted(path) + " records no backup of disk " +
                                   quoted(disk.target));
    return set;
}

std::vector<BackupSet> list_sets(const std::string& dest) {
    std::optional<std::vector<std::string>> names = entries(dest);
    if (!names)
        throw util::InputError(quoted(dest) + " does not exist");
    std::vector<BackupSet> sets;
    for (const std::string& name : *names) {
        const std::string path = dest + "/" + name;
        if (!is_directory(path))
            continue;
        for (BackupSet& set : list_domain_sets(path))
            sets.push_back(std::move(set));
    }
    return sets;
}

void mark_complete(const std::string& set_dir, const std::string& snapshot_id) {
    write_durable(set_dir + "/" + set_marker_file, snapshot_id + "\n");
}

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

void remove_set(const std::string& set_dir) {
    std::optional<std::vector<std::string>> names = entries(set_dir);
    if (!names)
        return;
    // The marker first: a set half-removed must not look restorable.
    if (::unlink((set_dir + "/" + set_marker_file).c_str()) != 0 && errno != ENOENT)
        throw util::SystemError("cannot remove " + quoted(set_dir + "/" + set_marker_file), errno);
    sync_directory(set_dir);
    for (const std::string& name : *names) {
        const std::string path = set_dir + "/" + name;
        if (is_directory(path))
            continue;
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            throw util::SystemError("cannot remove " + quoted(path), errno);
    }
    if (::rmdir(set_dir.c_str()) != 0)
        throw util::SystemError("cannot remove the set directory " + quoted(set_dir), errno);
    sync_directory(set_dir.substr(0, set_dir.find_last_of('/')));
}

} // namespace virtsnap::store
