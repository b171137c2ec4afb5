#include "commit.hpp"

#include "cli/manifest_io.hpp"
#include "store/domain_lock.hpp"
#include "store/state_record.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "virt/merge_overlays.hpp"

namespace virtsnap::commit {

using util::quoted;

namespace {

// The manifest is input from outside; the state record is ours. Nothing is
// merged or deleted unless the two name the same snapshot, disks and files.
void check_matches_record(const xml::Manifest& manifest, const store::StateRecord& record,
                          const std::string& domain_name) {
    const xml::Manifest& ours = record.manifest;
    auto refuse = [&](const std::string& problem) {
        throw util::RefusedError("the manifest does not match the pending virtsnap run on domain " +
                                 quoted(domain_name) + ": " + problem + "; nothing was changed");
    };
    if (manifest.snapshot_id != ours.snapshot_id)
        refuse("it is for snapshot " + manifest.snapshot_id + ", the pending run is snapshot " +
               ours.snapshot_id);
    if (manifest.disks.size() != ours.disks.size())
        refuse("it names " + std::to_string(manifest.disks.size()) + " disk(s), the snapshot has " +
               std::to_string(ours.disks.size()));
    for (const xml::ManifestDisk& disk : manifest.disks) {
        const xml::ManifestDisk* recorded = ours.find_disk(disk.target);
        if (!recorded)
            refuse("the snapshot has no disk " + quoted(disk.target));
        if (disk.overlay != recorded->overlay)
            refuse("disk " + quoted(disk.target) + ": overlay " + quoted(disk.overlay) +
                   " is not the snapshot's " + quoted(recorded->overlay));
        if (disk.frozen != recorded->frozen || disk.format != recorded->format)
            refuse("disk " + quoted(disk.target) + ": frozen image " + quoted(disk.frozen) +
                   " is not the snapshot's " + quoted(recorded->frozen));
    }
}

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

    virt::Connection conn = virt::Connection::open(options.common.connect_uri);
    virt::Domain domain = conn.lookup(manifest.domain_uuid);
    if (domain.name() != manifest.domain_name)
        log.warn("the manifest calls domain " + manifest.domain_uuid + " " + quoted(manifest.domain_name) +
                 "; it is now " + quoted(domain.name()));
    store::DomainLock lock = store::DomainLock::acquire(options.state_dir, domain.uuid(), domain.name());
    std::optional<store::StateRecord> record = store::load_state(options.state_dir, domain.uuid());
    if (!record)
        throw util::RefusedError(
            "no virtsnap run is pending on domain " + quoted(domain.name()) + " in " +
            quoted(options.state_dir) +
            " (already committed, or made with another --state-dir); nothing was changed");
    check_matches_record(manifest, *record, domain.name());

    record->stage = store::Stage::committing;
    store::save_state(options.state_dir, *record);
    virt::merge_overlays(conn, domain, record->manifest,
                         virt::MergeSettings{options.timeout, options.bandwidth_mib}, log);
    store::remove_state(options.state_dir, domain.uuid());
    log.info("snapshot " + manifest.snapshot_id + " of domain " + quoted(domain.name()) +
             " merged back; every disk is on its original chain");

    if (manifest.failed()) {
        for (const xml::ManifestFailure& failure : manifest.failures)
            log.warn("earlier in the pipeline, " + failure.tool + " failed: " + failure.message);
        return cli::ExitStatus::partial;
    }
    return cli::ExitStatus::ok;
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
    cli::ExitStatus status =
        options->recover_domain.empty() ? commit_manifest(*options, log) : run_recover(*options, log);
    if (util::interrupted()) {
        log.warn(std::string("received ") + util::signal_name(util::interrupt_signal()) +
                 "; it was held back until the commit had finished");
        return cli::ExitStatus::interrupted;
    }
    return status;
}

} // namespace virtsnap::commit
