#pragma once
// The files a copy writes into one directory. Each is written as
// NAME.partial — made afresh, never written through whatever was at that
// name — and published (renamed to NAME) only when the caller says what it
// belongs with is complete and checked. Whatever was not published is
// removed on destruction, so a failure or a signal leaves the directory as
// it was: an old backup that --force would replace is still there, whole,
// until its successor is.

#include "util/unique_fd.hpp"

#include <mutex>
#include <string>
#include <vector>

namespace virtsnap::copy {

class OutputFiles {
  public:
    // dir: absolute, existing.
    explicit OutputFiles(std::string dir) : dir_(std::move(dir)) {}
    ~OutputFiles();
    OutputFiles(const OutputFiles&) = delete;
    OutputFiles& operator=(const OutputFiles&) = delete;

    const std::string& dir() const noexcept { return dir_; }

    // A new, empty NAME.partial (mode 0600) to write NAME's content into.
    // Safe from any thread.
    util::UniqueFd create(const std::string& name);
    // NAME.partial written in one go, fsynced (a manifest, a definition).
    void create_with(const std::string& name, const std::string& content);

    // Renames the named files into place and makes the renames durable.
    // replace: an existing NAME is replaced; otherwise one is refused
    // (RefusedError) and nothing more is renamed. Safe from any thread.
    void publish(const std::vector<std::string>& names, bool replace);
    // Every file created and not yet published.
    void publish_all(bool replace);

  private:
    std::string dir_;
    std::mutex mutex_; // disks copied in parallel add their files
    std::vector<std::string> pending_;
};

} // namespace virtsnap::copy
