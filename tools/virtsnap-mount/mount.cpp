#include "mount.hpp"

#include "job/nbd_export.hpp"
#include "job/pinned_point.hpp"
#include "job/restore_point.hpp"
#include "job/set_mount.hpp"
#include "options.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace virtsnap::mount {

using util::quoted;

namespace {

std::string absolute(const std::string& path) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved))
        throw util::InputError(quoted(path) + " is not a backup set: " + std::strerror(errno));
    return resolved;
}

} // namespace

cli::ExitStatus run_mount(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    const Options& options = *parsed;
    util::Log log("virtsnap-mount", options.common.verbosity());
    util::InterruptGuard interrupts;

    if (options.mode == Mode::unmount) {
        job::unmount_restore_point(options.mount_point, log);
        return cli::ExitStatus::ok;
    }
    // --until: the set is found in the domain's directory as
    // virtsnap-restore finds it, then pinned and read as one given directly.
    const std::string set_path =
        options.until.empty() ? absolute(options.set) : job::restore_point(options.set, options.until, log);
    if (options.mode == Mode::nbd) {
        // The disk is chosen from the manifest read under the pin.
        job::PinnedPoint point = job::pin_restore_point(set_path, options.disks);
        job::NbdSettings settings{options.socket, job::nbd_disk(point.set, options.disks), options.force};
        job::export_restore_point(point, settings, log);
        return cli::ExitStatus::ok;
    }
    const job::PinnedPoint point = job::pin_restore_point(set_path, options.disks);
    // A signal ends a mount cleanly: it is how a foreground mount is
    // stopped, so the status is 0 once it is unmounted.
    job::mount_restore_point(point, {options.mount_point, options.force}, log);
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::mount
