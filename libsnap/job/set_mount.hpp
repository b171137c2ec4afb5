#pragma once
// A restore point's guest filesystems shown read-only on a host directory
// through libguestfs's FUSE mount, for as long as virtsnap-mount runs: the
// guest's own layout when inspection finds an OS, else each filesystem on
// a directory of its own (verify/guest_mounts.hpp). The set's images are
// attached read-only (a throwaway overlay under each), so nothing reaches
// the set; the set and those below it stay pinned (job/pinned_point.hpp).

#include "job/pinned_point.hpp"
#include "util/log.hpp"

#include <string>

namespace virtsnap::job {

// What a virtsnap-mount FUSE mount calls itself in the mount table: the
// source field is "virtsnap-mount:PID" (the mounting process), so -u
// unmounts nothing else and can wait for that process to end.
constexpr const char* mount_fsname = "virtsnap-mount";

struct MountSettings {
    std::string mount_point; // an existing directory
    bool force = false;      // mount even when the checksums show damage, with a warning
};

// Mounts and serves until the mount goes (virtsnap-mount -u, fusermount -u)
// or a SIGINT/SIGTERM/SIGHUP, which unmounts it; then stops the appliance.
// The checksums are checked beside the appliance's start; damage is a
// VerificationMismatch without settings.force. Interrupted when a signal
// comes before the mount is made.
void mount_restore_point(const PinnedPoint& point, const MountSettings& settings, const util::Log& log);

// The PID a mount table source names when it is a virtsnap-mount's
// ("virtsnap-mount:1234"), else 0.
long mount_owner(const std::string& fstype, const std::string& source);

// virtsnap-mount -u: unmounts mount_point when it is a virtsnap-mount
// mount (RefusedError for anything else, InputError when nothing is
// mounted there), then waits up to a minute for the mounting process to
// end, so the set is released when this returns.
void unmount_restore_point(const std::string& mount_point, const util::Log& log);

} // namespace virtsnap::job
