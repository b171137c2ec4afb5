#pragma once
// Copies disks into backup files: each disk's image flattened into one
// file, or each layer of its chain into a file of its own, with the content
// checksums computed on the way. The sources are opened once and proven to
// be the chain qemu-img resolves (copy/source_chain.hpp); the files are
// written as NAME.partial and published by the caller (copy/output_files.hpp)
// once everything they belong with is complete. virtsnap-copy,
// virtsnap-backup and virtsnap-restore share it.

#include "copy/output_files.hpp"
#include "copy/source_chain.hpp"
#include "image/block_sums.hpp"
#include "util/log.hpp"
#include "xml/manifest.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace virtsnap::copy {

struct CopySettings {
    std::string format = "qcow2"; // or "raw"
    bool keep_chain = false;
    bool compress = false;
    bool force = false; // replace existing backup files
    // The qcow2 options of the images written; unset: the source's own
    // (a restore recreates the options the manifest recorded).
    std::optional<xml::Qcow2Options> qcow2_options;
    // An incremental copy: only the top image's own clusters (the kept
    // overlay: what the guest wrote since set incremental_parent), into one
    // qcow2 layer whose backing file is "../PARENT/TARGET.qcow2", that
    // set's image of the disk. Empty: a standalone copy.
    std::string incremental_parent;
    // A differential copy (with incremental_parent naming the chain's
    // full): besides the top image's own clusters, by disk target the ranges
    // the sets since that full changed, all read through the whole chain.
    std::optional<std::map<std::string, std::vector<image::Extent>>> changed_since_parent;
    // Block sums (image/block_sums.hpp) of each disk as of this copy,
    // written beside its qcow2 image as TARGET.blocks and recorded in the
    // manifest: a standalone flattened copy computes them while copying; an
    // incremental layer takes block_sums_below's (by disk target: the sums
    // of the set it is on) with the blocks it holds replaced, and a disk
    // without sums there gets none.
    bool block_sums = false;
    std::shared_ptr<const std::map<std::string, image::BlockSums>> block_sums_below;
    // An incremental copy by content (with incremental_parent, block_sums
    // and block_sums_below of that set): the whole disk is read and its
    // block sums computed, and the layer holds exactly the 64 KiB blocks
    // whose sums differ from the parent's, read through the whole chain.
    bool by_content = false;
    // Compute checksums while copying. Only bench/copy turns this off, to
    // measure their cost; a backup without them cannot be verified later.
    bool checksums = true;
    // A domain's image is read past the page cache (copy/source_reader.hpp)
    // unless something reads it again right after the copy: the comparison
    // with the frozen image (virtsnap-backup --verify-with source) then
    // finds it in the cache instead of reading the storage a second time.
    bool source_read_again = false;
    // Disks copied at the same time (copy_disks).
    unsigned jobs = 1;
    // copy_disks publishes each disk's files as soon as they are complete
    // (never replacing a file): for a directory that counts only once
    // something else says so (a backup set, restorable once its marker is
    // written). Otherwise nothing is published.
    bool publish_each_disk = false;
    // Called between windows of the copy, from the thread copying; throws
    // to abandon it (an offline backup whose domain was started meanwhile).
    std::function<void()> check;
    // Called by copy_disks with a disk's index in the manifest once its
    // backup is recorded there, from the thread that copied it (with jobs
    // > 1, several threads).
    std::function<void(size_t)> copied;
};

// One disk to copy.
struct DiskCopyRequest {
    std::string target;             // names the output files and the progress line
    std::vector<SourceImage> chain; // the image, then its backing chain, as recorded
    std::uint64_t virtual_size = 0; // the disk's exact size, as recorded
    image::ImageOrigin origin = image::ImageOrigin::host;
};

// The request for a disk of a manifest: its frozen image and chain.
DiskCopyRequest request_for(const xml::SnapshotDisk& disk);

// The backup file names a request makes with settings, top first.
std::vector<std::string> output_names(const DiskCopyRequest& request, const CopySettings& settings);

// Copies one disk into outputs (unpublished). Throws InputError, before a
// byte is read, when the sources are not the chain qemu-img finds.
xml::DiskBackup copy_disk(const DiskCopyRequest& request, const CopySettings& settings, OutputFiles& outputs,
                          const util::Log& log);

// Refuses (RefusedError, nothing written) when an output name in dir — or
// its NAME.partial — is one of the source images itself: copying there
// would replace (or delete, as a leftover) what is being read.
void refuse_sources_as_outputs(const std::string& dir, const std::vector<std::string>& names,
                               const std::vector<std::string>& sources);

// Creates dir (mode 0700 unless told) when missing; returns its absolute
// path. Checks the whole path before creating any of it. Throws
// RefusedError when it is not writable.
std::string prepare_backup_directory(const std::string& dir, mode_t mode = 0700);

// Copies every disk of the manifest into outputs, settings.jobs disks at a
// time, the largest first, and records each backup in the manifest (and
// outputs' directory as its backup directory). Refuses, before copying
// anything, a backup file that exists unless settings.force, and an output
// that is a source. Errors name the disk and the destination. Nothing is
// published here unless settings.publish_each_disk.
void copy_disks(xml::Manifest& manifest, const CopySettings& settings, OutputFiles& outputs,
                const util::Log& log);

} // namespace virtsnap::copy
