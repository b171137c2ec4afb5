#include "store/set_images.hpp"

#include "image/image_file.hpp"
#include "image/qcow2_header.hpp"
#include "util/error.hpp"

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
    // An incremental layer names its parent set's image beside its own set.
    const std::string backing =
        file.backing_set.empty() ? file.backing : "../" + file.backing_set + "/" + file.backing;
    if (header.backing_file != backing)
        throw InputError(what + " names " +
                         (header.backing_file.empty() ? "no backing file"
                                                      : "the backing file " + quoted(header.backing_file)) +
                         ", but the manifest records " + (backing.empty() ? "none" : quoted(backing)));
    if (!header.backing_file.empty() && !header.backing_format.empty() && header.backing_format != "qcow2")
        throw InputError(what + " names its backing file as " + quoted(header.backing_format) +
                         ", not as the qcow2 layer the manifest records");
}

} // namespace

void check_backup_files(const std::string& dir, const xml::ManifestDisk& disk) {
    if (!disk.backup)
        throw InputError(quoted(dir) + " holds no backup of disk " + quoted(disk.target));
    for (const xml::BackupFile& file : disk.backup->files)
        check_file(dir + "/" + file.name, *disk.backup, file);
}

void check_set_images(const BackupSet& set, const std::vector<const xml::ManifestDisk*>& disks) {
    for (const xml::ManifestDisk* disk : disks) {
        if (!disk->backup)
            throw InputError("backup set " + quoted(set.path) + " records no backup of disk " +
                             quoted(disk->target));
        check_backup_files(set.path, *disk);
    }
}

} // namespace virtsnap::store
