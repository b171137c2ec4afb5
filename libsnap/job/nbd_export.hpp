#pragma once
// One disk of a restore point exported read-only over NBD on a Unix socket
// by qemu-nbd, for as long as virtsnap-mount runs: any NBD client (qemu-img,
// nbdfuse, a VM) reads the disk as of that set, the set itself untouched.

#include "job/pinned_point.hpp"
#include "util/log.hpp"

#include <string>

namespace virtsnap::job {

struct NbdSettings {
    std::string socket; // a path where nothing is yet
    std::string target; // the disk (job::nbd_disk)
    bool force = false; // export even when the checksums show damage, with a warning
};

// The qemu-nbd command line: read-only, the format given (never probed),
// persistent and shared so that clients may come and go and read at once.
std::vector<std::string> qemu_nbd_command(const std::string& image, const std::string& format,
                                          const std::string& socket);

// Checks the disk's checksums (VerificationMismatch without force), then
// serves until SIGINT/SIGTERM/SIGHUP stops qemu-nbd, and removes the
// socket. RefusedError when something exists at the socket's path; Error
// when qemu-nbd fails or ends by itself.
void export_restore_point(const PinnedPoint& point, const NbdSettings& settings, const util::Log& log);

} // namespace virtsnap::job
