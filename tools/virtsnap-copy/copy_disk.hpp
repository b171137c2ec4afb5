#pragma once
// Copies one disk of a manifest into the backup directory: the flattened
// frozen image, or each layer of its chain.

#include "util/log.hpp"
#include "xml/manifest.hpp"

#include <string>
#include <vector>

namespace virtsnap::copy_tool {

struct CopySettings {
    std::string dir;    // absolute
    std::string format; // "qcow2" or "raw"
    bool keep_chain = false;
    bool compress = false;
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
    void add(const std::string& path) { paths_.push_back(path); }
    void renamed(const std::string& from, const std::string& to);
    void keep() { paths_.clear(); }

  private:
    std::vector<std::string> paths_;
};

xml::DiskBackup copy_disk(const xml::ManifestDisk& disk, const CopySettings& settings, CreatedFiles& created,
                          const util::Log& log);

} // namespace virtsnap::copy_tool
