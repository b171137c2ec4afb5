#include "restore.hpp"

#include "job/instant_restore.hpp"
#include "job/restore_disks.hpp"
#include "job/restore_file.hpp"
#include "job/restore_point.hpp"
#include "options.hpp"
#include "store/backup_set.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace virtsnap::restore {

using util::quoted;

namespace {

std::string absolute(const std::string& path) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved))
        throw util::InputError(quoted(path) + " is not a backup set: " + std::strerror(errno));
    return resolved;
}

} // namespace

cli::ExitStatus run_restore(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    const Options& options = *parsed;
    util::Log log("virtsnap-restore", options.common.verbosity());
    util::InterruptGuard interrupts;
    job::InstantSettings instant;
    instant.restore = options.restore;
    instant.state_dir = options.state_dir;
    instant.bandwidth_mib = options.bandwidth_mib;
    if (!options.finish.empty()) {
        job::finish_instant(options.finish, instant, log);
        return cli::ExitStatus::ok;
    }

    // --until: the set is found in the domain's directory, then read
    // exactly as when given directly.
    const std::string set_path =
        options.until.empty() ? absolute(options.set) : job::restore_point(options.set, options.until, log);
    store::BackupSet set = store::read_set(set_path);
    if (!options.guest_path.empty()) {
        job::restore_file(set, job::chosen_disks(set, options.restore.disks), options.guest_path,
                          options.host_path, options.restore.force, log);
        log.info(quoted(options.guest_path) + " restored to " + quoted(options.host_path));
        return cli::ExitStatus::ok;
    }
    if (options.instant) {
        job::instant_restore(set, instant, log);
        return cli::ExitStatus::ok;
    }
    for (const std::string& path : job::restore_disks(set, options.restore, log))
        std::cout << path << '\n';
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::restore
