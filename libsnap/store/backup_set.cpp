#include "store/backup_set.hpp"

#include "store/durable_file.hpp"
#include "store/set_pin.hpp"
#include "util/error.hpp"
#include "util/file_read.hpp"
#include "util/unique_fd.hpp"

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

// A directory itself, not a link to one.
bool is_directory(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<xml::Manifest> read_manifest_of(const std::string& set_dir) {
    const std::string path = set_dir + "/" + set_manifest_file;
    const std::string what = "manifest " + quoted(path);
    std::optional<std::string> text =
        util::read_strict_file_if_exists(AT_FDCWD, path, util::manifest_size_limit, what);
    if (!text)
        return std::nullopt;
    return xml::parse_manifest(*text, what);
}

} // namespace

std::optional<std::vector<std::string>> directory_names(const std::string& dir) {
    return entries(dir);
}

bool has_marker(const std::string& dir) {
    struct stat st {};
    return ::lstat((dir + "/" + set_marker_file).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<BackupSet> list_domain_sets(const std::string& domain_dir) {
    std::vector<BackupSet> sets;
    std::optional<std::vector<std::string>> names = entries(domain_dir);
    if (!names)
        return sets;
    const std::string domain = domain_dir.substr(domain_dir.find_last_of('/') + 1);
    for (const std::string& name : *names) {
        const std::string path = domain_dir + "/" + name;
        if (!is_set_id(name) || !is_directory(path))
            continue;
        BackupSet set;
        set.domain = domain;
        set.id = name;
        set.path = path;
        set.complete = has_marker(path);
        if (set.complete) {
            try {
                set.manifest = read_manifest_of(path);
                if (!set.manifest)
                    set.problem = "its manifest is missing";
            } catch (const util::Error& error) {
                set.problem = error.what();
            }
        }
        sets.push_back(std::move(set));
    }
    return sets;
}

BackupSet read_set(const std::string& path) {
    const std::string manifest_path = path + "/" + set_manifest_file;
    struct stat st {};
    if (!is_directory(path) || ::lstat(manifest_path.c_str(), &st) != 0)
        throw util::InputError(quoted(path) + " is not a backup set (no " + set_manifest_file + " in it)");
    BackupSet set;
    set.path = path;
    const size_t slash = path.find_last_of('/');
    set.id = slash == std::string::npos ? path : path.substr(slash + 1);
    set.complete = has_marker(path);
    if (!set.complete)
        throw util::RefusedError(
            "backup set " + quoted(path) +
            " is incomplete (the run that wrote it did not finish); it is never restored");
    set.manifest = read_manifest_of(path);
    if (!set.manifest)
        throw util::InputError(quoted(path) + " is not a backup set (no " + set_manifest_file + " in it)");
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

std::optional<std::string> read_set_definition(const BackupSet& set, const char* name) {
    const std::string path = set.path + "/" + name;
    return util::read_strict_file_if_exists(AT_FDCWD, path, util::definition_size_limit,
                                            "saved definition " + quoted(path));
}

void mark_complete(const std::string& set_dir, const std::string& snapshot_id) {
    write_durable(set_dir + "/" + set_marker_file, snapshot_id + "\n");
}

void remove_set(const std::string& named) {
    // With a trailing slash, lstat would look through a link.
    std::string set_dir = named;
    while (set_dir.size() > 1 && set_dir.back() == '/')
        set_dir.pop_back();
    struct stat st {};
    if (::lstat(set_dir.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return;
        throw util::SystemError("cannot read " + quoted(set_dir), errno);
    }
    // A link planted where a set would be is never followed into what it
    // names, which is not a set.
    if (!S_ISDIR(st.st_mode))
        throw util::RefusedError(quoted(set_dir) + " is not a directory; it is left as it is");
    // Held until the set is gone: a reader pinning it meanwhile is refused.
    const util::UniqueFd removal = lock_set_exclusively(set_dir);
    std::optional<std::vector<std::string>> names = entries(set_dir);
    if (!names)
        return;
    // Only what virtsnap writes into a set: a directory planted where a set
    // would be, or anything else under DEST, is never emptied.
    for (const std::string& name : *names)
        if (!is_set_file_name(name) || is_directory(set_dir + "/" + name))
            throw util::RefusedError(quoted(set_dir) + " holds " + quoted(name) +
                                     ", which virtsnap never writes into a backup set; it is left as it is");
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
