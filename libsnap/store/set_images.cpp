#include "store/set_images.hpp"

#include "image/image_file.hpp"
#include "image/qcow2_header.hpp"
#include "util/error.hpp"
#include "util/path.hpp"

#include <climits>
#include <cstdlib>
#include <memory>
#include <optional>
#include <utility>

namespace virtsnap::store {

using util::InputError;
using util::quoted;

namespace {

void check_file(const std::string& path, const xml::DiskBackup& backup, const xml::BackupFile& file) {
    const image::ImageFile opened = image::ImageFile::open(path, image::ImageOrigin::backup_set);
    if (backup.format != "qcow2")
        return; // read as raw, always with its format given: nothing in it is followed
    const std::string what = "backup file " + quoted(path);
    const image::Qcow2Header header = image::read_qcow2_header(opened.fd(), what);
    if (header.external_data_file)
        throw InputError(what + " keeps its data in an external file" +
                         (header.data_file.empty() ? "" : " " + quoted(header.data_file)) +
                         "; a backup set's image holds its own data");
    const std::string expected = header_backing(file);
    if (header.backing_file != expected)
        throw InputError(what + " names " +
                         (header.backing_file.empty() ? "no backing file"
                                                      : "the backing file " + quoted(header.backing_file)) +
                         ", but the manifest records " + (expected.empty() ? "none" : quoted(expected)));
    if (!header.backing_file.empty() && !header.backing_format.empty() && header.backing_format != "qcow2")
        throw InputError(what + " names its backing file as " + quoted(header.backing_format) +
                         ", not as the qcow2 layer the manifest records");
}

} // namespace

void check_chain_images(const DiskChain& chain) {
    // Each set's files by its own manifest, named as they are opened: from
    // the first set's directory.
    std::size_t at = 0;
    const std::vector<std::string> paths = chain.paths();
    for (const xml::DiskBackup& backup : chain.backups)
        for (const xml::BackupFile& file : backup.files)
            check_file(paths.at(at++), backup, file);
}

DiskChain check_backup_files(const std::string& dir, const xml::Manifest& manifest,
                             const xml::ManifestDisk& disk) {
    if (!disk.backup)
        throw InputError(quoted(dir) + " holds no backup of disk " + quoted(disk.target));
    DiskChain chain = disk_chain(dir, manifest, disk);
    check_chain_images(chain);
    return chain;
}

std::vector<DiskChain> check_set_images(const BackupSet& set,
                                        const std::vector<const xml::ManifestDisk*>& disks) {
    std::vector<DiskChain> chains;
    for (const xml::ManifestDisk* disk : disks) {
        if (!disk->backup)
            throw InputError("backup set " + quoted(set.path) + " records no backup of disk " +
                             quoted(disk->target));
        chains.push_back(check_backup_files(set.path, *set.manifest, *disk));
    }
    return chains;
}

void refuse_set_as_output(const std::string& dir, const BackupSet& set,
                          const std::vector<DiskChain>& chains) {
    std::vector<std::pair<image::FileIdentity, std::string>> set_dirs;
    auto add = [&](const std::string& path) {
        if (std::optional<image::FileIdentity> id = image::identity_at(path))
            set_dirs.emplace_back(*id, path);
    };
    add(set.path);
    for (const DiskChain& chain : chains)
        for (const BackupSet& below : chain.sets)
            add(below.path);
    // The directory and every one above it: a directory made inside a set
    // would go when retention removes the set, the restored images with it.
    std::string at = dir;
    while (!image::identity_at(at) && util::dirname_of(at) != at)
        at = util::dirname_of(at); // not there yet: the first that is
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(at.c_str(), nullptr), &std::free);
    if (!real)
        return; // nothing of it exists: made new, so in no set
    for (std::string up = real.get();; up = util::dirname_of(up)) {
        const std::optional<image::FileIdentity> id = image::identity_at(up);
        for (const auto& [set_id, set_dir] : set_dirs)
            if (id && *id == set_id)
                throw util::RefusedError("output directory " + quoted(dir) + " is in the backup set " +
                                         quoted(set_dir) +
                                         "; a restore never writes into a backup set (choose another "
                                         "directory); nothing was restored");
        if (up == "/")
            return;
    }
}

} // namespace virtsnap::store
