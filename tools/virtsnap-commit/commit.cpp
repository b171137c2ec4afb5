#include "commit.hpp"

#include "cli/manifest_io.hpp"
#include "job/pipeline.hpp"
#include "options.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace virtsnap::commit {

namespace {

cli::ExitStatus commit_manifest(const Options& options, const util::Log& log) {
    xml::Manifest manifest;
    try {
        manifest = cli::read_manifest(options.manifest);
    } catch (const util::InputError& error) {
        throw util::InputError(
            std::string(error.what()) +
            "; nothing was changed ('virtsnap-commit --recover DOMAIN' merges a pending run "
            "from its state record)");
    }
    job::commit_manifest(manifest, options.commit, log);
    if (!manifest.failed())
        return cli::ExitStatus::ok;
    for (const xml::ManifestFailure& failure : manifest.failures)
        log.warn("earlier in the pipeline, " + failure.tool + " failed: " + failure.message);
    return cli::ExitStatus::partial;
}

} // namespace

cli::ExitStatus run_commit(int argc, char** argv) {
    std::optional<Options> options = parse_options(argc, argv);
    if (!options)
        return cli::ExitStatus::ok;
    util::Log log("virtsnap-commit", options->common.verbosity());
    // A signal does not stop a commit half-way: the commit is the cleanup.
    // It is noted, the commit finishes, and the exit status reports it.
    util::InterruptGuard interrupts;
    cli::ExitStatus status = cli::ExitStatus::ok;
    if (!options->end_tracking.empty())
        job::end_tracking(options->end_tracking, options->commit, log);
    else if (options->recover_domain.empty())
        status = commit_manifest(*options, log);
    else
        job::recover_domain(options->recover_domain, options->commit, log);
    if (util::interrupted()) {
        log.warn(std::string("received ") + util::signal_name(util::interrupt_signal()) +
                 "; it was held back until the commit had finished");
        return cli::ExitStatus::interrupted;
    }
    return status;
}

} // namespace virtsnap::commit
