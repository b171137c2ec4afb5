#pragma once
// The directory of a backup set being written: made afresh (mode 0700),
// removed on any path that does not complete it, so a failed or interrupted
// run leaves no half-set behind; completed by writing the definitions, the
// manifest and, last, the marker that makes it restorable.

#include "xml/manifest.hpp"

#include <string>

namespace virtsnap::job {

// The definitions as they are when the backup starts: before the snapshot
// changes the live one to the overlays.
struct Definitions {
    std::string persistent; // empty for a transient domain
    std::string live;       // empty for a shut-off domain
};

class SetDirectory {
  public:
    // Creates path; throws SystemError when it exists or cannot be made.
    explicit SetDirectory(std::string path);
    ~SetDirectory();
    SetDirectory(const SetDirectory&) = delete;
    SetDirectory& operator=(const SetDirectory&) = delete;

    const std::string& path() const noexcept { return path_; }

    // Writes the definitions and the manifest durably, then the marker; the
    // directory is kept from then on.
    void complete(const Definitions& definitions, const xml::Manifest& manifest);

  private:
    std::string path_;
    bool kept_ = false;
};

} // namespace virtsnap::job
