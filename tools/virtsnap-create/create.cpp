#include "create.hpp"

#include "manifest_builder.hpp"
#include "options.hpp"
#include "preflight.hpp"

#include "store/domain_lock.hpp"
#include "store/state_record.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/pause_point.hpp"
#include "virt/disk_inventory.hpp"
#include "virt/merge_overlays.hpp"
#include "virt/overlay_files.hpp"
#include "virt/snapshot.hpp"
#include "xml/disk_selection.hpp"
#include "xml/snapshot_xml.hpp"

#include <iostream>
#include <map>

namespace virtsnap::create {

using util::quoted;

namespace {

// Puts the domain back on its images after a snapshot that must not stand
// (interrupted, not quiesced under --quiesce=require, not what was asked),
// then drops the state record. When that fails too the record stays for
// --recover, and the message says so.
void undo(const virt::Connection& conn, const virt::Domain& domain, const Options& options,
          const xml::Manifest& manifest, const util::Log& log) {
    try {
        virt::merge_overlays(conn, domain, manifest, virt::MergeSettings{}, log);
        store::remove_state(options.state_dir, domain.uuid());
    } catch (const util::Error& error) {
        throw util::Error(std::string(error.what()) +
                          "; the state record is kept: run 'virtsnap-commit --recover " + domain.name() +
                          "'");
    }
}

void check_on_overlays(const virt::Domain& domain, const xml::Manifest& manifest) {
    std::map<std::string, std::string> sources;
    for (const xml::Disk& disk : virt::read_domain_disks(domain))
        sources[disk.target] = disk.source;
    for (const xml::ManifestDisk& disk : manifest.disks) {
        if (sources[disk.target] != disk.overlay)
            throw util::Error("after the snapshot, disk " + quoted(disk.target) + " of domain " +
                              quoted(domain.name()) + " is on " + quoted(sources[disk.target]) +
                              " instead of the overlay " + quoted(disk.overlay));
    }
}

} // namespace

cli::ExitStatus run_create(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    const Options& options = *parsed;
    util::Log log("virtsnap-create", options.common.verbosity());
    util::InterruptGuard interrupts;

    virt::Connection conn = virt::Connection::open(options.common.connect_uri);
    virt::Domain domain = conn.lookup(options.domain);
    if (!domain.is_active())
        throw util::RefusedError(
            "domain " + quoted(domain.name()) +
            " is not running; a shut-off domain needs no snapshot: copy its images as they are "
            "(virtsnap-backup does this)");
    store::DomainLock lock = store::DomainLock::acquire(options.state_dir, domain.uuid(), domain.name());
    if (std::optional<store::StateRecord> pending = store::load_state(options.state_dir, domain.uuid()))
        throw util::RefusedError(
            "an earlier virtsnap run on domain " + quoted(domain.name()) + " (snapshot " +
            pending->manifest.snapshot_id + ", stage " + store::to_string(pending->stage) +
            ") was not merged back; run 'virtsnap-commit --recover " + domain.name() + "'");
    std::string which;
    if (virt::on_virtsnap_overlay(domain, &which))
        throw util::RefusedError("domain " + quoted(domain.name()) + " is already on a virtsnap overlay (" +
                                 which + ") but no state record of it is in " + quoted(options.state_dir) +
                                 "; run 'virtsnap-commit --recover " + domain.name() +
                                 "' with the --state-dir of the run that made it");

    xml::DiskSelection selection = xml::select_disks(virt::read_domain_disks(domain), options.disks,
                                                     options.excluded_disks, domain.name());
    for (const std::string& note : selection.notes)
        log.info(note);
    const std::string id = options.snapshot_id.empty() ? new_snapshot_id() : options.snapshot_id;
    xml::Manifest manifest = build_manifest(domain, selection.chosen, id, options.overlay_dir, "");
    check_overlay_locations(manifest, options.overlay_space);
    std::map<std::string, std::string> overlays;
    for (const xml::ManifestDisk& disk : manifest.disks)
        overlays[disk.target] = disk.overlay;
    const std::string snapshot_xml = xml::snapshot_xml(id, virt::read_domain_disks(domain), overlays);
    virt::QuiescePlan plan = virt::plan_quiesce(domain, options.quiesce, options.agent_timeout, log);
    if (util::interrupted())
        throw util::Interrupted(std::string("interrupted by ") + util::signal_name(util::interrupt_signal()) +
                                " before the snapshot; domain " + quoted(domain.name()) + " was not changed");

    // The journal goes to disk before the domain is touched.
    store::save_state(options.state_dir, {store::Stage::prepared, manifest});
    util::pause_point("before-snapshot");
    virt::SnapshotOutcome outcome;
    try {
        virt::create_overlay_files(manifest);
        outcome = virt::take_snapshot(domain, snapshot_xml, plan, options.freeze_timeout, log);
        check_on_overlays(domain, manifest);
    } catch (const util::Error&) {
        undo(conn, domain, options, manifest, log);
        throw;
    }
    manifest.quiesced = outcome.quiesced;
    manifest.freeze_ms = outcome.freeze_ms;
    if (plan.quiesce && !outcome.quiesced) {
        if (options.quiesce == virt::QuiesceMode::require) {
            undo(conn, domain, options, manifest, log);
            throw util::RefusedError(outcome.not_quiesced_reason +
                                     "; --quiesce=require: the snapshot was merged back");
        }
        log.warn(outcome.not_quiesced_reason + "; the snapshot is crash-consistent (quiesced=no)");
    }
    store::save_state(options.state_dir, {store::Stage::snapshotted, manifest});
    util::pause_point("after-snapshot");

    if (util::interrupted()) {
        log.warn(std::string("interrupted by ") + util::signal_name(util::interrupt_signal()) +
                 "; merging the snapshot back");
        undo(conn, domain, options, manifest, log);
        throw util::Interrupted("interrupted; snapshot " + id + " of domain " + quoted(domain.name()) +
                                " was merged back");
    }
    std::cout << xml::to_xml(manifest);
    log.info("snapshot " + id + " of domain " + quoted(domain.name()) + ": " +
             std::to_string(manifest.disks.size()) + " disk(s), " +
             (manifest.quiesced ? "quiesced, frozen for " + std::to_string(manifest.freeze_ms) + " ms"
                                : std::string("crash-consistent")));
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::create
