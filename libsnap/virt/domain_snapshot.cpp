#include "virt/domain_snapshot.hpp"

#include "store/state_record.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/path.hpp"
#include "util/pause_point.hpp"
#include "util/phase_times.hpp"
#include "virt/disk_inventory.hpp"
#include "virt/manifest_builder.hpp"
#include "virt/merge_overlays.hpp"
#include "virt/overlay_files.hpp"
#include "virt/overlay_preflight.hpp"
#include "xml/disk_selection.hpp"
#include "xml/document.hpp"
#include "xml/domain_disks.hpp"
#include "xml/snapshot_xml.hpp"

#include <map>

namespace virtsnap::virt {

using util::quoted;

namespace {

// Puts the domain back on its images after a snapshot that must not stand
// (interrupted, not quiesced under --quiesce=require, not what was asked),
// then drops the state record. When that fails too the record stays for
// --recover, and the message says so.
void undo(const Connection& conn, const Domain& domain, const SnapshotSettings& settings,
          const xml::Manifest& manifest, const util::Log& log) {
    try {
        std::vector<xml::SnapshotDisk> disks(manifest.disks.begin(), manifest.disks.end());
        merge_overlays(conn, domain, manifest.snapshot_id, disks, MergeSettings{}, log);
        store::remove_state(settings.state_dir, domain.uuid());
    } catch (const util::Error& error) {
        throw util::Error(std::string(error.what()) +
                          "; the state record is kept: run 'virtsnap-commit --recover " + domain.name() +
                          "'");
    }
}

// The record written before the domain is touched, and after each step.
store::StateRecord record_for(const xml::Manifest& manifest, store::Stage stage, bool quiesce,
                              const SnapshotSettings& settings) {
    store::StateRecord record = store::record_of(manifest, stage);
    record.quiesce = quiesce;
    record.set_dir = settings.set_dir;
    if (settings.tracking)
        for (const xml::ManifestDisk& disk : manifest.disks)
            if (const xml::SnapshotDisk* kept = settings.tracking->find(disk.target))
                if (kept->overlay == disk.frozen)
                    record.below = settings.tracking->overlay_id;
    return record;
}

// A disk on a kept overlay gets its new overlay named after its own image
// (vm.virtsnap-ID2.vda.qcow2, not vm.virtsnap-ID1.vda.virtsnap-ID2...), in
// the directory the kept one is in (or --overlay-dir).
void name_after_own_images(xml::Manifest& manifest, const store::TrackingRecord& tracking,
                           const std::string& overlay_dir) {
    for (xml::ManifestDisk& disk : manifest.disks) {
        const xml::SnapshotDisk* kept = tracking.find(disk.target);
        if (!kept || kept->overlay != disk.frozen)
            continue;
        xml::Disk own;
        own.target = disk.target;
        own.source = kept->frozen;
        disk.overlay =
            xml::overlay_path_for(own, manifest.snapshot_id,
                                  overlay_dir.empty() ? util::dirname_of(disk.overlay) : overlay_dir, "");
    }
}

void check_on_overlays(const Domain& domain, const xml::Manifest& manifest) {
    std::map<std::string, std::string> sources;
    for (const xml::Disk& disk : read_domain_disks(domain))
        sources[disk.target] = disk.source;
    for (const xml::ManifestDisk& disk : manifest.disks) {
        if (sources[disk.target] != disk.overlay)
            throw util::Error("after the snapshot, disk " + quoted(disk.target) + " of domain " +
                              quoted(domain.name()) + " is on " + quoted(sources[disk.target]) +
                              " instead of the overlay " + quoted(disk.overlay));
    }
}

} // namespace

void check_overlays_explained(const Domain& domain, const std::optional<store::TrackingRecord>& tracking,
                              const std::string& state_dir, bool recovering) {
    xml::Document doc = xml::Document::parse(domain.xml(), "XML of domain " + quoted(domain.name()));
    for (const xml::Disk& disk : xml::parse_domain_disks(doc)) {
        if (disk.source.empty() || !xml::looks_like_overlay(disk.source))
            continue;
        const xml::SnapshotDisk* kept = tracking ? tracking->find(disk.target) : nullptr;
        if (kept && kept->overlay == disk.source)
            continue;
        const std::string which = "disk " + quoted(disk.target) + " is on " + quoted(disk.source);
        if (recovering)
            throw util::RefusedError("domain " + quoted(domain.name()) + " is on a virtsnap overlay (" +
                                     which + ") but " + quoted(state_dir) +
                                     " holds no state record or change record of it; pass the --state-dir of "
                                     "the run that made it");
        throw util::RefusedError("domain " + quoted(domain.name()) + " is already on a virtsnap overlay (" +
                                 which + ") but no state or change record of it is in " + quoted(state_dir) +
                                 "; run 'virtsnap-commit --recover " + domain.name() +
                                 "' with the --state-dir of the run that made it (if its records are lost, "
                                 "'virtsnap-commit --end-tracking " +
                                 domain.name() + "' merges the overlays back)");
    }
}

store::StateRecord snapshot_record(const xml::Manifest& manifest, const SnapshotSettings& settings) {
    return record_for(manifest, store::Stage::snapshotted, false, settings);
}

xml::Manifest snapshot_domain(const Connection& conn, const Domain& domain, const SnapshotSettings& settings,
                              const util::Log& log) {
    if (std::optional<store::StateRecord> pending = store::load_state(settings.state_dir, domain.uuid()))
        throw util::RefusedError(
            "an earlier virtsnap run on domain " + quoted(domain.name()) + " (snapshot " +
            pending->snapshot_id + ", stage " + store::to_string(pending->stage) +
            ") was not merged back; run 'virtsnap-commit --recover " + domain.name() + "'");
    check_overlays_explained(domain, settings.tracking, settings.state_dir);

    util::PhaseTimer inventory("disk inventory");
    const std::vector<xml::Disk> disks = read_domain_disks(domain);
    xml::DiskSelection selection =
        xml::select_disks(disks, settings.disks, settings.excluded_disks, domain.name());
    for (const std::string& note : selection.notes)
        log.info(note);
    const std::string id = settings.snapshot_id.empty() ? new_snapshot_id() : settings.snapshot_id;
    xml::Manifest manifest = build_manifest(domain, selection.chosen, id, settings.overlay_dir, "");
    if (settings.tracking)
        name_after_own_images(manifest, *settings.tracking, settings.overlay_dir);
    check_overlay_locations(manifest, settings.overlay_space);
    std::map<std::string, std::string> overlays;
    for (const xml::ManifestDisk& disk : manifest.disks)
        overlays[disk.target] = disk.overlay;
    const std::string snapshot_xml = xml::snapshot_xml(id, disks, overlays);
    inventory.stop();
    util::PhaseTimer probe("agent probe");
    QuiescePlan plan = plan_quiesce(domain, settings.quiesce, settings.agent_timeout, log);
    if (util::interrupted())
        throw util::Interrupted(std::string("interrupted by ") + util::signal_name(util::interrupt_signal()) +
                                " before the snapshot; domain " + quoted(domain.name()) + " was not changed");

    probe.stop();
    // The journal goes to disk before the domain is touched.
    util::PhaseTimer journal("state record");
    store::save_state(settings.state_dir,
                      record_for(manifest, store::Stage::prepared, plan.quiesce, settings));
    journal.stop();
    util::pause_point("before-snapshot");
    SnapshotOutcome outcome;
    try {
        util::PhaseTimer creating("overlay creation");
        create_overlay_files(manifest);
        creating.stop();
        outcome =
            take_snapshot(domain, snapshot_xml, plan, settings.freeze_timeout, settings.thaw_timeout, log);
        util::PhaseTimer check("snapshot check");
        check_on_overlays(domain, manifest);
    } catch (const util::GuestFrozen& frozen) {
        // The frozen guest is what the user must hear about first; the
        // snapshot, if taken, is merged back all the same.
        try {
            undo(conn, domain, settings, manifest, log);
        } catch (const util::Error& error) {
            throw util::GuestFrozen(std::string(frozen.what()) + "; also: " + error.what());
        }
        throw;
    } catch (const util::Error&) {
        undo(conn, domain, settings, manifest, log);
        throw;
    }
    manifest.quiesced = outcome.quiesced;
    manifest.freeze_ms = outcome.freeze_ms;
    if (plan.quiesce && !outcome.quiesced) {
        if (settings.quiesce == QuiesceMode::require) {
            undo(conn, domain, settings, manifest, log);
            throw util::RefusedError(outcome.not_quiesced_reason +
                                     "; --quiesce=require: the snapshot was merged back");
        }
        log.warn(outcome.not_quiesced_reason + "; the snapshot is crash-consistent (quiesced=no)");
    }
    util::PhaseTimer journal_again("state record");
    store::save_state(settings.state_dir, record_for(manifest, store::Stage::snapshotted, false, settings));
    journal_again.stop();
    util::pause_point("after-snapshot");

    if (util::interrupted()) {
        log.warn(std::string("interrupted by ") + util::signal_name(util::interrupt_signal()) +
                 "; merging the snapshot back");
        undo(conn, domain, settings, manifest, log);
        throw util::Interrupted("interrupted; snapshot " + id + " of domain " + quoted(domain.name()) +
                                " was merged back");
    }
    return manifest;
}

} // namespace virtsnap::virt
