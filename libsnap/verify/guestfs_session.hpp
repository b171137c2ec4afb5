#pragma once
// A libguestfs handle with backup images attached read-only: libguestfs
// puts a throwaway overlay under each drive, so nothing done in the
// appliance can change a backup. Shared by the filesystem checks and
// single-file restore. LIBGUESTFS_BACKEND and LIBGUESTFS_BACKEND_SETTINGS
// (force_tcg) are honoured from the environment; libguestfs's own error
// printing is silenced and its last error becomes a GuestfsError.

#include <guestfs.h>

#include <memory>
#include <string>
#include <vector>

namespace virtsnap::verify {

struct GuestfsDeleter {
    void operator()(guestfs_h* g) const noexcept { guestfs_close(g); }
};
using GuestfsPtr = std::unique_ptr<guestfs_h, GuestfsDeleter>;

class GuestfsSession {
  public:
    GuestfsSession();

    void add_read_only(const std::string& path, const std::string& format);
    // Starts the appliance (seconds); drives cannot be added afterwards.
    void launch();
    // Stops the appliance, reporting a failure (close alone would not).
    void shutdown();

    std::vector<std::string> devices();
    // Pairs of (device, type), as guestfs_list_filesystems gives them.
    std::vector<std::pair<std::string, std::string>> filesystems();

    guestfs_h* get() const noexcept { return g_.get(); }
    // Throws GuestfsError "libguestfs cannot ACTION: <its last error>".
    [[noreturn]] void fail(const std::string& action) const;
    // Takes a NULL-terminated list libguestfs allocated (fails on null).
    std::vector<std::string> take_list(char** list, const std::string& action) const;

  private:
    GuestfsPtr g_;
};

} // namespace virtsnap::verify
