#include "backup.hpp"

#include "cli/run.hpp"
#include "job/backup_all.hpp"
#include "job/backup_domain.hpp"
#include "job/backup_metrics.hpp"
#include "options.hpp"
#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <chrono>
#include <ctime>
#include <iostream>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace virtsnap::backup {

namespace {

// Each set made goes to stdout as its directory, one line each: what a
// script needs to find it.
void report(const job::SetSummary& summary, const util::Log& log) {
    std::cout << summary.set_dir << std::endl;
    log.info(job::describe(summary));
}

// The results of the run, for --metrics-file: written when the run ends,
// whichever way.
class MetricsRecord {
  public:
    MetricsRecord(const Options& options, const util::Log& log) : options_(options), log_(log) {}

    void succeeded(const job::SetSummary& summary) {
        job::DomainRun run;
        run.domain = summary.domain;
        run.set = summary;
        run.duration = summary.duration;
        run.ended = std::time(nullptr);
        runs_.push_back(std::move(run));
    }
    void failed(const std::string& domain, const std::exception& error, std::chrono::milliseconds took) {
        job::DomainRun run;
        run.domain = domain;
        run.exit_status = cli::to_int(cli::exit_status_for(error));
        run.duration = took;
        run.ended = std::time(nullptr);
        runs_.push_back(std::move(run));
    }

    // A file that cannot be written is a warning: the backups themselves
    // are what the exit status reports.
    void write() const {
        if (options_.metrics_file.empty() || runs_.empty())
            return;
        try {
            job::write_metrics_file(options_.metrics_file, runs_, options_.backup.dest);
        } catch (const util::Error& error) {
            log_.warn(std::string("the metrics file was not written: ") + error.what());
        }
    }

  private:
    const Options& options_;
    const util::Log& log_;
    std::vector<job::DomainRun> runs_;
};

// Before anything is changed: a metrics or log file that could not be
// written is a usage error now.
void check_output_file(const std::string& path, const std::string& option) {
    if (path.empty())
        return;
    const std::size_t slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    struct stat st {};
    if (slash + 1 == path.size() || ::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw util::UsageError(option + " " + util::quoted(path) + ": not a file in an existing directory");
    if (::access(dir.c_str(), W_OK) != 0)
        throw util::UsageError(option + " " + util::quoted(path) + ": its directory is not writable");
    // The file is replaced (a rename, or removed and made afresh), which a
    // directory, a link or a device there must not be.
    if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw util::UsageError(option + " " + util::quoted(path) + " exists and is not a regular file");
}

// The hook's per-domain ends, with what the run knows there.
job::HookEnvironment ended(const job::SetSummary& s, const std::string& dest) {
    return {{"VIRTSNAP_DOMAIN", s.domain},
            {"VIRTSNAP_DEST", dest},
            {"VIRTSNAP_SET_DIR", s.set_dir},
            {"VIRTSNAP_LEVEL", job::to_string(s.level)},
            {"VIRTSNAP_STATUS", "0"},
            {"VIRTSNAP_BYTES_READ", std::to_string(s.bytes_read)},
            {"VIRTSNAP_BYTES_WRITTEN", std::to_string(s.bytes_written)},
            {"VIRTSNAP_DURATION_MS", std::to_string(s.duration.count())},
            {"VIRTSNAP_FREEZE_MS", std::to_string(s.quiesced && !s.offline ? s.freeze_ms : 0)}};
}
job::HookEnvironment aborted(const std::string& domain, const job::BackupSettings& settings,
                             const std::exception& error, std::chrono::milliseconds took) {
    return {{"VIRTSNAP_DOMAIN", domain},
            {"VIRTSNAP_DEST", settings.dest},
            {"VIRTSNAP_LEVEL", job::to_string(settings.level)},
            {"VIRTSNAP_STATUS", std::to_string(cli::to_int(cli::exit_status_for(error)))},
            {"VIRTSNAP_ERROR", util::printable(error.what())},
            {"VIRTSNAP_DURATION_MS", std::to_string(took.count())}};
}

std::chrono::milliseconds since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

cli::ExitStatus back_up_all(int argc, char** argv, const Options& options, const virt::Connection& conn,
                            const job::Hooks& hooks, MetricsRecord& metrics, const util::Log& log) {
    // Each domain with its own section of the configuration file.
    auto settings_for = [&](const std::string& name) {
        std::optional<Options> own = parse_options(argc, argv, name);
        job::BackupSettings settings = own->backup;
        settings.dest = options.backup.dest;
        settings.hook = options.backup.hook;
        return settings;
    };
    job::FleetOutcome outcome = job::backup_all(
        conn, settings_for, options.included_domains, options.excluded_domains, log,
        [&](const job::SetSummary& s) {
            report(s, log);
            metrics.succeeded(s);
            hooks.run("backup-end", ended(s, options.backup.dest));
        },
        [&](const std::string& name, const std::exception& error, std::chrono::milliseconds took) {
            metrics.failed(name, error, took);
            hooks.run("backup-abort", aborted(name, options.backup, error, took));
        });
    if (outcome.failed.empty())
        return cli::ExitStatus::ok;
    if (util::interrupted())
        return cli::ExitStatus::interrupted;
    return outcome.done == 0 ? cli::ExitStatus::failure : cli::ExitStatus::partial;
}

cli::ExitStatus back_up_one(const Options& options, const virt::Connection& conn, const job::Hooks& hooks,
                            MetricsRecord& metrics, const util::Log& log) {
    const auto start = std::chrono::steady_clock::now();
    try {
        const job::SetSummary summary = job::backup_domain(conn, options.domain, options.backup, log);
        metrics.succeeded(summary);
        report(summary, log);
        hooks.run("backup-end", ended(summary, options.backup.dest));
    } catch (const util::Error& error) {
        metrics.failed(options.domain, error, since(start));
        hooks.run("backup-abort", aborted(options.domain, options.backup, error, since(start)));
        throw;
    }
    if (util::interrupted()) {
        log.warn(std::string("received ") + util::signal_name(util::interrupt_signal()) +
                 " during the commit; it was held back until the commit had finished");
        return cli::ExitStatus::interrupted;
    }
    return cli::ExitStatus::ok;
}

} // namespace

cli::ExitStatus run_backup(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    Options options = *parsed;
    util::Log log("virtsnap-backup", options.common.verbosity());
    util::InterruptGuard interrupts;
    for (const std::string& warning : options.config_warnings)
        log.warn(warning);
    check_output_file(options.metrics_file, "--metrics-file");
    check_output_file(options.log_file, "--log-file");
    std::optional<util::LogCopy> log_copy;
    if (!options.log_file.empty())
        log_copy.emplace(store::create_fresh_private_file(options.log_file));

    virt::Connection conn = virt::Connection::open(options.common.connect_uri);
    if (!options.all)
        conn.lookup(options.domain); // an unknown domain changes nothing, not even DEST
    options.backup.dest = copy::prepare_backup_directory(options.backup.dest);
    MetricsRecord metrics(options, log);
    const job::Hooks hooks(options.backup.hook, log);
    const job::HookEnvironment job_environment{{"VIRTSNAP_DEST", options.backup.dest},
                                               {"VIRTSNAP_DOMAIN", options.all ? "" : options.domain}};
    hooks.require("job-start", job_environment);
    cli::ExitStatus status = cli::ExitStatus::failure;
    // The job's last phases: the log file complete, then the end.
    auto finish = [&](cli::ExitStatus ended, const std::string& error) {
        metrics.write();
        job::HookEnvironment environment = job_environment;
        environment.emplace_back("VIRTSNAP_STATUS", std::to_string(cli::to_int(ended)));
        if (log_copy) {
            if (!error.empty())
                log_copy->append("virtsnap-backup: error: " + util::printable(error) + "\n");
            log_copy->sync();
            job::HookEnvironment with_log = environment;
            with_log.emplace_back("VIRTSNAP_LOG_FILE", options.log_file);
            hooks.run("log-end", with_log);
        }
        hooks.run("job-end", environment);
    };
    try {
        status = options.all ? back_up_all(argc, argv, options, conn, hooks, metrics, log)
                             : back_up_one(options, conn, hooks, metrics, log);
    } catch (const std::exception& error) {
        finish(cli::exit_status_for(error), error.what());
        throw;
    }
    finish(status, "");
    return status;
}

} // namespace virtsnap::backup
