#include "backup.hpp"

#include "job/backup_all.hpp"
#include "job/backup_domain.hpp"
#include "options.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <iostream>

namespace virtsnap::backup {

namespace {

// Each set made goes to stdout as its directory, one line each: what a
// script needs to find it.
void report(const job::SetSummary& summary, const util::Log& log) {
    std::cout << summary.set_dir << std::endl;
    log.info(job::describe(summary));
}

} // namespace

cli::ExitStatus run_backup(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    Options options = *parsed;
    util::Log log("virtsnap-backup", options.common.verbosity());
    util::InterruptGuard interrupts;

    virt::Connection conn = virt::Connection::open(options.common.connect_uri);
    if (!options.all)
        conn.lookup(options.domain); // an unknown domain changes nothing, not even DEST
    options.backup.dest = copy::prepare_backup_directory(options.backup.dest);
    if (options.all) {
        job::FleetOutcome outcome =
            job::backup_all(conn, options.backup, log, [&](const job::SetSummary& s) { report(s, log); });
        if (outcome.failed.empty())
            return cli::ExitStatus::ok;
        if (util::interrupted())
            return cli::ExitStatus::interrupted;
        return outcome.done == 0 ? cli::ExitStatus::failure : cli::ExitStatus::partial;
    }
    report(job::backup_domain(conn, options.domain, options.backup, log), log);
    if (util::interrupted()) {
        log.warn(std::string("received ") + util::signal_name(util::interrupt_signal()) +
                 " during the commit; it was held back until the commit had finished");
        return cli::ExitStatus::interrupted;
    }
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::backup
