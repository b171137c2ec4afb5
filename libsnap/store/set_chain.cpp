#include "store/set_chain.hpp"

#include "store/set_layout.hpp"
#include "util/error.hpp"
#include "util/file_read.hpp"
#include "util/path.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <sys/stat.h>

namespace virtsnap::store {

using util::InputError;
using util::quoted;

namespace {

// The directory set_dir/.. names, as the kernel (and QEMU, following
// "../PARENT_ID/NAME") resolves it: the textual parent when set_dir's last
// component is a directory itself, else the resolved one.
std::string domain_dir_of(std::string set_dir) {
    while (set_dir.size() > 1 && set_dir.back() == '/')
        set_dir.pop_back();
    const std::string last = util::basename_of(set_dir);
    struct stat st {};
    if (last != "." && last != ".." && ::lstat(set_dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        return util::dirname_of(set_dir);
    std::unique_ptr<char, decltype(&std::free)> resolved(::realpath((set_dir + "/..").c_str(), nullptr),
                                                         &std::free);
    if (!resolved)
        throw util::SystemError("cannot resolve the directory above " + quoted(set_dir), errno);
    return resolved.get();
}

// A parent set, read as strictly as any set: InputError for all that makes
// it unusable, naming the child that depends on it.
BackupSet read_parent(const std::string& domain_dir, const std::string& id, const std::string& child,
                      const std::string& uuid) {
    const std::string of = " of backup set " + quoted(child);
    if (!is_set_id(id))
        throw InputError("the parent set " + quoted(id) + of + " is not named as virtsnap names sets");
    BackupSet set;
    set.domain = util::basename_of(domain_dir);
    set.id = id;
    set.path = domain_dir + "/" + id;
    const std::string it = "the parent set " + id + of + " (" + quoted(set.path) + ")";
    struct stat st {};
    if (::lstat(set.path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            throw InputError("the parent set " + id + of + " is missing (no " + quoted(set.path) + ")");
        throw util::SystemError("cannot inspect " + quoted(set.path), errno);
    }
    if (S_ISLNK(st.st_mode))
        throw InputError(it + " is a symbolic link; a parent set is never looked for elsewhere");
    if (!S_ISDIR(st.st_mode))
        throw InputError(it + " is not a directory");
    set.complete = has_marker(set.path);
    if (!set.complete)
        throw InputError(it + " is incomplete (the run that wrote it did not finish)");
    const std::string manifest_path = set.path + "/" + set_manifest_file;
    try {
        std::optional<std::string> text = util::read_strict_file_if_exists(
            AT_FDCWD, manifest_path, util::manifest_size_limit, "manifest " + quoted(manifest_path));
        if (!text)
            throw InputError("its manifest is missing");
        set.manifest = xml::parse_manifest(*text, "manifest " + quoted(manifest_path));
    } catch (const InputError& error) {
        // A failure to read (SystemError) or an interrupt stays what it is.
        throw InputError(it + " is damaged: " + error.what());
    }
    if (set.manifest->snapshot_id != id)
        throw InputError(it + " is damaged: its manifest records the set " +
                         quoted(set.manifest->snapshot_id));
    if (set.manifest->domain_uuid != uuid)
        throw InputError(it + " is a backup of another domain (UUID " + set.manifest->domain_uuid + ", not " +
                         uuid + ")");
    return set;
}

} // namespace

std::vector<BackupSet> parent_sets(const std::string& set_dir, const xml::Manifest& manifest) {
    std::vector<BackupSet> parents;
    if (!manifest.on_parent())
        return parents;
    const std::string domain_dir = domain_dir_of(set_dir);
    // Each manifest names a parent older than itself (its own check), and
    // each parent must hold the manifest of the id named: the ids fall, the
    // walk ends. The bound is against a damaged store, not a loop.
    std::string next = manifest.parent;
    std::string child = set_dir;
    while (!next.empty()) {
        if (parents.size() >= max_chain_sets)
            throw InputError("backup set " + quoted(set_dir) + " depends on more than " +
                             std::to_string(max_chain_sets) + " sets; its chain is not followed");
        BackupSet parent = read_parent(domain_dir, next, child, manifest.domain_uuid);
        next = parent.manifest->on_parent() ? parent.manifest->parent : "";
        child = parent.path;
        parents.push_back(std::move(parent));
    }
    return parents;
}

namespace {

// The backup of disk in parent, the set below the incremental layer `above`
// (the disk's backup in the set child): held, in the same size and chunk
// size, in qcow2, its top file named as the layer names it. InputError
// naming the parent and child otherwise.
const xml::DiskBackup& backup_below(const BackupSet& parent, const std::string& child,
                                    const xml::ManifestDisk& disk, const xml::DiskBackup& above) {
    const xml::BackupFile& layer = above.files.back();
    const std::string it =
        "the parent set " + parent.id + " (" + quoted(parent.path) + ") of backup set " + quoted(child);
    // Each incremental set's disks hang on its parent (the manifest's
    // check); a set that is not incremental names no set below.
    if (layer.backing_set != parent.id)
        throw util::Error("internal error: disk " + disk.target + " is backed by set " + layer.backing_set +
                          ", not by the parent set " + parent.id);
    const xml::ManifestDisk* found = parent.manifest->find_disk(disk.target);
    if (!found || !found->backup)
        throw InputError(it + " holds no backup of disk " + quoted(disk.target));
    const xml::DiskBackup& backup = *found->backup;
    if (found->virtual_size != disk.virtual_size)
        throw InputError(it + " holds disk " + quoted(disk.target) + " with " +
                         std::to_string(found->virtual_size) + " bytes, not " +
                         std::to_string(disk.virtual_size) + " (a resized disk starts a new chain)");
    if (backup.chunk_size != above.chunk_size)
        throw InputError(it + " records the checksums of disk " + quoted(disk.target) + " in chunks of " +
                         std::to_string(backup.chunk_size) + " bytes, not " +
                         std::to_string(above.chunk_size));
    if (backup.format != "qcow2")
        throw InputError(it + " holds disk " + quoted(disk.target) + " as " + quoted(backup.format) +
                         "; an incremental layer is only ever backed by a qcow2 image");
    if (backup.files.front().name != layer.backing)
        throw InputError(it + " holds disk " + quoted(disk.target) + " as " +
                         quoted(backup.files.front().name) + ", not as the " + quoted(layer.backing) +
                         " the layer above names");
    return backup;
}

} // namespace

DiskChain disk_chain(const std::string& set_dir, const xml::Manifest& manifest,
                     const xml::ManifestDisk& disk) {
    DiskChain chain;
    chain.target = disk.target;
    chain.virtual_size = disk.virtual_size;
    if (!disk.backup)
        throw InputError("backup set " + quoted(set_dir) + " records no backup of disk " +
                         quoted(disk.target));
    BackupSet top;
    top.path = set_dir;
    top.id = manifest.snapshot_id;
    top.domain = manifest.domain_name;
    top.complete = true;
    chain.sets.push_back(std::move(top));
    chain.backups.push_back(*disk.backup);
    if (disk.backup->files.back().backing_set.empty())
        return chain;

    for (BackupSet& parent : parent_sets(set_dir, manifest)) {
        chain.backups.push_back(backup_below(parent, chain.sets.back().path, disk, chain.backups.back()));
        chain.sets.push_back(std::move(parent));
    }
    if (!chain.backups.back().files.back().backing_set.empty())
        throw util::Error("internal error: the chain of disk " + disk.target + " does not end in a full set");
    return chain;
}

std::string ChainCheck::problem(const std::string& set_dir, const xml::Manifest& manifest) {
    // A set on a parent names it (the manifest's check: an incremental set
    // does, and no other).
    if (manifest.parent.empty())
        return "";
    for (const xml::ManifestDisk& disk : manifest.disks)
        if (disk.backup)
            if (std::string found = disk_problem(set_dir, manifest, disk); !found.empty())
                return found;
    return "";
}

std::string ChainCheck::disk_problem(const std::string& set_dir, const xml::Manifest& manifest,
                                     const xml::ManifestDisk& disk) {
    auto too_deep = [](const std::string& dir) {
        return "backup set " + quoted(dir) + " depends on more than " + std::to_string(max_chain_sets) +
               " sets; its chain is not followed";
    };
    const std::string domain_dir = domain_dir_of(set_dir);
    // Down the chain as parent_sets and disk_chain go, one set at a time,
    // until a set whose chain is known, the full set or a problem; then
    // every set passed on the way gets its answer.
    std::vector<std::string> passed;
    std::string dir = set_dir;
    std::optional<xml::Manifest> below_top; // the manifest of dir, once below set_dir
    xml::DiskBackup above = *disk.backup;
    std::string problem;
    std::size_t below = 0; // how many sets are below the last one passed
    for (;;) {
        if (auto known = known_.find({dir, disk.target}); known != known_.end()) {
            problem = known->second.problem;
            below = known->second.below + 1;
            break;
        }
        passed.push_back(dir);
        if (above.files.back().backing_set.empty())
            break; // a full set: the chain holds
        if (passed.size() > max_chain_sets)
            return too_deep(set_dir); // how deep the sets passed are is not known
        const xml::Manifest& child = below_top ? *below_top : manifest;
        try {
            BackupSet parent = read_parent(domain_dir, child.parent, dir, child.domain_uuid);
            above = backup_below(parent, dir, disk, above);
            dir = parent.path;
            below_top = std::move(parent.manifest);
        } catch (const InputError& error) {
            problem = error.what();
            break;
        }
    }
    for (std::size_t i = 0; i < passed.size(); ++i) {
        Known& known = known_[{passed[i], disk.target}];
        known.below = below + (passed.size() - 1 - i);
        known.problem = problem.empty() && known.below > max_chain_sets ? too_deep(passed[i]) : problem;
    }
    return known_.at({set_dir, disk.target}).problem;
}

xml::DiskBackup DiskChain::backup(std::size_t from) const {
    xml::DiskBackup joined = backups.at(from);
    for (std::size_t k = from + 1; k < sets.size(); ++k)
        for (xml::BackupFile file : backups[k].files) {
            file.name = "../" + sets[k].id + "/" + file.name;
            joined.files.push_back(std::move(file));
        }
    if (from + 1 < sets.size())
        joined.flattened = false;
    return joined;
}

std::vector<std::string> DiskChain::paths() const {
    std::vector<std::string> out;
    for (const xml::BackupFile& file : backup(0).files)
        out.push_back(sets.front().path + "/" + file.name);
    return out;
}

std::string header_backing(const xml::BackupFile& file) {
    if (file.backing_set.empty())
        return file.backing;
    return "../" + file.backing_set + "/" + file.backing;
}

} // namespace virtsnap::store
