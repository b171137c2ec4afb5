#pragma once
// Copies the disks of a manifest into a backup directory: each disk's
// flattened frozen image, or each layer of its chain. virtsnap-copy and
// virtsnap-backup share it.

#include "util/log.hpp"
#include "xml/manifest.hpp"

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace virtsnap::copy {

struct CopySettings {
    std::string dir;              // absolute
    std::string format = "qcow2"; // or "raw"
    bool keep_chain = false;
    bool compress = false;
    bool force = false; // replace existing backup files
    // The qcow2 options of the images written; unset: the source's own
    // (a restore recreates the options the manifest recorded).
    std::optional<xml::Qcow2Options> qcow2_options;
    // Compute checksums while copying. Only bench/copy turns this off, to
    // measure their cost; a backup without them cannot be verified later.
    bool checksums = true;
    // Disks copied at the same time (copy_disks).
    unsigned jobs = 1;
    // Called between windows of the copy; throws to abandon it (an offline
    // backup whose domain was started meanwhile).
    std::function<void()> check;
    // Called by copy_disks with a disk's index in the manifest once its
    // backup is recorded there, from the thread that copied it (with jobs
    // > 1, several threads).
    std::function<void(size_t)> copied;
};

// The backup file names of disk, top first: TARGET.FORMAT, then for a kept
// chain TARGET.1.qcow2, TARGET.2.qcow2, ... for the layers below.
std::vector<std::string> backup_file_names(const xml::ManifestDisk& disk, const CopySettings& settings);

// Files this run created: removed on destruction unless kept, so a failure
// or a signal leaves nothing half-written behind.
class CreatedFiles {
  public:
    CreatedFiles() = default;
    CreatedFiles(const CreatedFiles&) = delete;
    CreatedFiles& operator=(const CreatedFiles&) = delete;
    ~CreatedFiles();
    void add(const std::string& path);
    void renamed(const std::string& from, const std::string& to);
    void keep();

  private:
    std::mutex mutex_; // disks copied in parallel add their files
    std::vector<std::string> paths_;
};

xml::DiskBackup copy_disk(const xml::ManifestDisk& disk, const CopySettings& settings, CreatedFiles& created,
                          const util::Log& log);

// Creates dir (mode 0700 unless told) when missing; returns its absolute
// path. Throws RefusedError when it is not writable.
std::string prepare_backup_directory(const std::string& dir, mode_t mode = 0700);

// Copies every disk of the manifest into settings.dir, settings.jobs disks
// at a time, the largest first, and records each backup in the manifest.
// Refuses (before copying anything) when a backup file exists and
// settings.force is not set, and when an earlier tool in the pipeline
// failed. Errors name the disk and the destination; the files made so far
// are in created.
void copy_disks(xml::Manifest& manifest, const CopySettings& settings, CreatedFiles& created,
                const util::Log& log);

} // namespace virtsnap::copy
