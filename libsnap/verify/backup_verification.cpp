#include "verify/backup_verification.hpp"

#include "store/set_images.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "verify/checksum_check.hpp"
#include "verify/filesystem_check.hpp"
#include "verify/image_compare.hpp"
#include "verify/qemu_checksum_check.hpp"

#include <sys/stat.h>

namespace virtsnap::verify {

using util::quoted;

namespace {

void record(xml::ManifestDisk& disk, const std::string& kind, const CheckOutcome& outcome, Mismatches& found,
            const util::Log& log) {
    disk.verifications.push_back({kind, outcome.ok ? "ok" : "mismatch", outcome.detail});
    const std::string line = disk.target + ": " + kind + ": " + outcome.detail;
    if (outcome.ok) {
        log.info(line);
        return;
    }
    log.warn(line);
    found.push_back("disk " + quoted(disk.target) + ": " + outcome.detail);
}

std::string file_path(const std::string& dir, const std::string& name) {
    std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
        throw util::Error("backup file " + quoted(path) + " is missing or unreadable");
    return path;
}

void check_source(xml::ManifestDisk& disk, bool offline, const std::string& dir, Mismatches& found,
                  const util::Log& log) {
    // Once the overlay is merged the frozen image moves on; comparing then
    // would report differences that are not damage.
    if (!offline && ::access(disk.overlay.c_str(), F_OK) != 0)
        throw util::RefusedError("disk " + quoted(disk.target) + ": its overlay " + quoted(disk.overlay) +
                                 " is gone, so its frozen image has changed since the snapshot; verify "
                                 "the backup with --checksums instead");
    const xml::DiskBackup& backup = *disk.backup;
    record(disk, "source",
           compare_with_source(disk.frozen, disk.format, file_path(dir, backup.files.front().name),
                               backup.format),
           found, log);
}

void check_files(xml::ManifestDisk& disk, const VerifySettings& settings, Mismatches& found,
                 const util::Log& log) {
    const std::string& dir = settings.dir;
    const xml::DiskBackup& backup = *disk.backup;
    for (size_t i = 0; i < backup.files.size(); ++i) {
        const std::string path = file_path(dir, backup.files[i].name);
        if (backup.format == "qcow2")
            record(disk, "image", check_qcow2_structure(path), found, log);
        if (settings.checksums)
            record(disk, "checksums", check_checksums(dir, backup, i, disk.virtual_size), found, log);
        if (settings.qemu_checksums)
            record(disk, "qemu-checksums", check_checksums_as_qemu_maps(dir, backup, i, disk.virtual_size),
                   found, log);
        util::throw_if_interrupted();
    }
}

void check_all_filesystems(xml::Manifest& manifest, const std::string& dir, Mismatches& found,
                           const util::Log& log) {
    std::vector<DiskImage> images;
    for (const xml::ManifestDisk& disk : manifest.disks)
        images.push_back({disk.target, file_path(dir, disk.backup->files.front().name), disk.backup->format});
    log.info("starting the libguestfs appliance for the filesystem checks");
    std::vector<FilesystemVerdict> verdicts = check_filesystems(images);
    for (xml::ManifestDisk& disk : manifest.disks) {
        bool any = false;
        for (const FilesystemVerdict& verdict : verdicts) {
            if (verdict.disk >= manifest.disks.size() || &manifest.disks[verdict.disk] != &disk)
                continue;
            any = true;
            CheckOutcome outcome = verdict.outcome;
            outcome.detail = verdict.device + ": " + outcome.detail;
            record(disk, "filesystems", outcome, found, log);
        }
        if (!any)
            record(disk, "filesystems", {true, "no filesystem found (unformatted)"}, found, log);
    }
    for (const FilesystemVerdict& verdict : verdicts)
        if (verdict.disk >= manifest.disks.size())
            log.info(verdict.device + " (spanning disks): " + verdict.outcome.detail);
}

void require_backup(const xml::ManifestDisk& disk) {
    if (!disk.backup)
        throw util::InputError("disk " + quoted(disk.target) + " has no backup in the manifest");
}

} // namespace

void verify_disk(xml::ManifestDisk& disk, bool offline, const VerifySettings& settings, Mismatches& found,
                 const util::Log& log) {
    require_backup(disk);
    // Before any QEMU tool opens them: files that could make it read
    // outside the directory are refused (links, foreign backing files).
    for (const xml::BackupFile& file : disk.backup->files)
        file_path(settings.dir, file.name);
    store::check_backup_files(settings.dir, disk);
    if (settings.source || (settings.source_for_kept_chains && !disk.backup->flattened))
        check_source(disk, offline, settings.dir, found, log);
    check_files(disk, settings, found, log);
}

void throw_if_mismatched(const Mismatches& found) {
    if (found.empty())
        return;
    std::string summary = std::to_string(found.size()) + " check(s) failed: " + found.front();
    if (found.size() > 1)
        summary += " (and " + std::to_string(found.size() - 1) + " more)";
    throw util::VerificationMismatch(summary);
}

void verify_backup(xml::Manifest& manifest, const VerifySettings& settings, const util::Log& log) {
    VerifySettings resolved = settings;
    if (resolved.dir.empty())
        resolved.dir = manifest.backup_dir;
    if (resolved.dir.empty())
        throw util::InputError("the manifest records no backup (run virtsnap-copy first)");
    // Every disk before any check: a manifest without backups is refused whole.
    for (const xml::ManifestDisk& disk : manifest.disks)
        require_backup(disk);

    Mismatches found;
    for (xml::ManifestDisk& disk : manifest.disks)
        verify_disk(disk, manifest.offline, resolved, found, log);
    if (resolved.filesystems)
        check_all_filesystems(manifest, resolved.dir, found, log);
    throw_if_mismatched(found);
}

} // namespace virtsnap::verify
