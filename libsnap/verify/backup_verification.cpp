#include "verify/backup_verification.hpp"

#include "copy/disk_copy.hpp"
#include "copy/source_chain.hpp"
#include "store/set_block_sums.hpp"
#include "store/set_chain.hpp"
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

// whole: the layer holds more than the kept overlay (a diff, a set by
// content): the disk is compared whole.
void check_source(xml::ManifestDisk& disk, bool offline, bool whole, const std::string& dir,
                  Mismatches& found, const util::Log& log) {
    // Once the overlay is merged the frozen image moves on; comparing then
    // would report differences that are not damage.
    if (!offline && ::access(disk.overlay.c_str(), F_OK) != 0)
        throw util::RefusedError("disk " + quoted(disk.target) + ": its overlay " + quoted(disk.overlay) +
                                 " is gone, so its frozen image has changed since the snapshot; verify "
                                 "the backup with --checksums instead");
    // The frozen image and the chain below it are opened and proven to be
    // the chain the manifest records, as a copy proves them, before
    // qemu-img opens them by name: a manifest naming a FIFO, or an image
    // whose header names a host file, is refused rather than followed.
    copy::SourceChain::open(copy::request_for(disk).chain, image::ImageOrigin::host, disk.virtual_size,
                            "disk " + quoted(disk.target));
    const xml::DiskBackup& backup = *disk.backup;
    const std::string copy = file_path(dir, backup.files.front().name);
    // An incremental layer against the kept overlay it was copied from: the
    // changes, not the whole disk through both chains. A diff holds more
    // than the overlay: the disk through the chain's full and the diff,
    // against the frozen disk; so does a layer by content, which holds the
    // blocks that differ from its parent's, not the overlay's clusters.
    if (whole) {
        record(disk, "source", compare_with_source(disk.frozen, disk.format, copy, "qcow2"), found, log);
        return;
    }
    if (!backup.files.back().backing_set.empty() && disk.format == "qcow2") {
        record(disk, "source", compare_layer_with_source(disk.frozen, copy), found, log);
        return;
    }
    record(disk, "source", compare_with_source(disk.frozen, disk.format, copy, backup.format), found, log);
}

CheckOutcome check_block_sums(const std::string& dir, const xml::ManifestDisk& disk) {
    try {
        const image::BlockSums sums = store::read_block_sums(dir, disk);
        return {true, std::to_string(sums.digests().size()) + " block sums match their recorded checksum"};
    } catch (const util::InputError& error) {
        return {false, error.what()};
    }
}

// The disk's own files, each opened with the layers below it: within the
// backup, and for an incremental layer in the sets below (chain).
void check_files(xml::ManifestDisk& disk, const store::DiskChain& chain, const VerifySettings& settings,
                 Mismatches& found, const util::Log& log) {
    const std::string& dir = settings.dir;
    const xml::DiskBackup backup = chain.backup(0);
    for (size_t i = 0; i < disk.backup->files.size(); ++i) {
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
    // The block sums the next incremental by content compares with: damaged
    // ones would make it copy too little, so they are checked with the data.
    if (settings.checksums && disk.backup->block_sums)
        record(disk, "block-sums", check_block_sums(dir, disk), found, log);
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

// --chain: the disks of the manifest in every set below it, each set's
// files against its own manifest, as verifying that set alone would.
void check_parent_sets(const xml::Manifest& manifest, const VerifySettings& settings, Mismatches& found,
                       const util::Log& log) {
    const std::vector<store::BackupSet> parents = store::parent_sets(settings.dir, manifest);
    if (parents.empty())
        log.info("the backup is not incremental: there is no chain below it to check");
    for (const store::BackupSet& parent : parents) {
        xml::Manifest below = *parent.manifest;
        VerifySettings checks;
        checks.dir = parent.path;
        checks.checksums = settings.checksums;
        checks.qemu_checksums = settings.qemu_checksums;
        log.info("checking the parent set " + parent.id + " (" + quoted(parent.path) + ")");
        Mismatches in_parent;
        for (const xml::ManifestDisk& disk : manifest.disks) {
            const xml::ManifestDisk* held = below.find_disk(disk.target);
            if (!held)
                throw util::InputError("the parent set " + quoted(parent.path) + " holds no disk " +
                                       quoted(disk.target));
            verify_disk(below, static_cast<std::size_t>(held - below.disks.data()), checks, in_parent, log);
        }
        for (const std::string& mismatch : in_parent)
            found.push_back("parent set " + parent.id + ": " + mismatch);
    }
}

} // namespace

bool reads_source(const xml::ManifestDisk& disk, const VerifySettings& settings) {
    require_backup(disk);
    return settings.source || (settings.source_for_kept_chains && !disk.backup->flattened);
}

void verify_disk(xml::Manifest& manifest, std::size_t index, const VerifySettings& settings,
                 Mismatches& found, const util::Log& log) {
    xml::ManifestDisk& disk = manifest.disks.at(index);
    require_backup(disk);
    // Before any QEMU tool opens them: files that could make it read
    // outside the directory are refused (links, foreign backing files), in
    // this backup and in every set an incremental one hangs on.
    for (const xml::BackupFile& file : disk.backup->files)
        file_path(settings.dir, file.name);
    const store::DiskChain chain = store::check_backup_files(settings.dir, manifest, disk);
    if (reads_source(disk, settings))
        check_source(disk, manifest.offline, manifest.level == "diff" || manifest.by_content, settings.dir,
                     found, log);
    check_files(disk, chain, settings, found, log);
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
    for (std::size_t i = 0; i < manifest.disks.size(); ++i)
        verify_disk(manifest, i, resolved, found, log);
    if (resolved.filesystems)
        check_all_filesystems(manifest, resolved.dir, found, log);
    if (resolved.chain)
        check_parent_sets(manifest, resolved, found, log);
    throw_if_mismatched(found);
}

} // namespace virtsnap::verify
