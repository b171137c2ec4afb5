#include "backup.hpp"

#include "backup_domain.hpp"
#include "copy/disk_copy.hpp"
#include "options.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <iostream>

namespace virtsnap::backup {

namespace {

constexpr const char* tool_name = "virtsnap-backup";

// Each set made goes to stdout as its directory, one line each: what a
// script needs to find it.
void report(const SetSummary& summary, const util::Log& log) {
    std::cout << summary.set_dir << std::endl;
    log.info(describe(summary));
}

cli::ExitStatus backup_every_domain(const virt::Connection& conn, const Options& options,
                                    const util::Log& log) {
    const std::vector<std::string> names = conn.domain_names();
    if (names.empty()) {
        log.info("the connection " + conn.uri() + " has no domains; nothing to back up");
        return cli::ExitStatus::ok;
    }
    std::vector<std::string> failed;
    std::size_t done = 0;
    for (const std::string& name : names) {
        if (util::interrupted()) {
            failed.push_back(name + " (not started: interrupted)");
            continue;
        }
        try {
            report(backup_domain(conn, name, options, log), log);
            ++done;
        } catch (const util::Error& error) {
            // One domain's failure does not stop the others.
            log.warn(name + ": " + error.what());
            failed.push_back(name);
        }
    }
    log.info(std::to_string(names.size()) + " domain(s): " + std::to_string(done) + " backed up" +
             (failed.empty() ? "" : ", " + std::to_string(failed.size()) + " failed"));
    if (failed.empty())
        return cli::ExitStatus::ok;
    std::string list;
    for (const std::string& name : failed)
        list += (list.empty() ? "" : ", ") + name;
    log.warn("failed: " + list);
    if (util::interrupted())
        return cli::ExitStatus::interrupted;
    return done == 0 ? cli::ExitStatus::failure : cli::ExitStatus::partial;
}

} // namespace

cli::ExitStatus run_backup(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    Options options = *parsed;
    util::Log log(tool_name, options.common.verbosity());
    util::InterruptGuard interrupts;

    virt::Connection conn = virt::Connection::open(options.common.connect_uri);
    if (!options.all)
        conn.lookup(options.domain); // an unknown domain changes nothing, not even DEST
    options.dest = copy::prepare_backup_directory(options.dest);
    if (options.all)
        return backup_every_domain(conn, options, log);
    report(backup_domain(conn, options.domain, options, log), log);
    if (util::interrupted()) {
        log.warn(std::string("received ") + util::signal_name(util::interrupt_signal()) +
                 " during the commit; it was held back until the commit had finished");
        return cli::ExitStatus::interrupted;
    }
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::backup
