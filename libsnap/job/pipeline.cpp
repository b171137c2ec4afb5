#include "job/pipeline.hpp"

#include "copy/output_files.hpp"
#include "store/domain_lock.hpp"
#include "store/set_layout.hpp"
#include "store/state_record.hpp"
#include "store/tracking_record.hpp"
#include "util/error.hpp"
#include "util/file_read.hpp"
#include "virt/connection.hpp"
#include "virt/pending_commit.hpp"
#include "xml/disk_source_edit.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace virtsnap::job {

using util::quoted;

namespace {

// The manifest is input from outside; the state record is ours. Nothing is
// merged or deleted unless the two name the same snapshot, disks and files.
void check_matches_record(const xml::Manifest& manifest, const store::StateRecord& record,
                          const std::string& domain_name) {
    auto refuse = [&](const std::string& problem) {
        throw util::RefusedError("the manifest does not match the pending virtsnap run on domain " +
                                 quoted(domain_name) + ": " + problem + "; nothing was changed");
    };
    if (manifest.snapshot_id != record.snapshot_id)
        refuse("it is for snapshot " + manifest.snapshot_id + ", the pending run is snapshot " +
               record.snapshot_id);
    if (manifest.disks.size() != record.disks.size())
        refuse("it names " + std::to_string(manifest.disks.size()) + " disk(s), the snapshot has " +
               std::to_string(record.disks.size()));
    for (const xml::ManifestDisk& disk : manifest.disks) {
        const xml::SnapshotDisk* recorded = nullptr;
        for (const xml::SnapshotDisk& candidate : record.disks)
            if (candidate.target == disk.target)
                recorded = &candidate;
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

} // namespace

xml::Manifest create_snapshot(const std::string& connect_uri, const std::string& name,
                              const virt::SnapshotSettings& settings, const util::Log& log) {
    virt::Connection conn = virt::Connection::open(connect_uri);
    virt::Domain domain = conn.lookup(name);
    if (!domain.is_active())
        throw util::RefusedError(
            "domain " + quoted(domain.name()) +
            " is not running; a shut-off domain needs no snapshot: copy its images as they are "
            "(virtsnap-backup does this)");
    store::DomainLock lock = store::DomainLock::acquire(settings.state_dir, domain.uuid(), domain.name());
    // A tracked domain's snapshot goes on top of its kept overlays, and its
    // commit merges back into them: the change record stays true.
    virt::SnapshotSettings own = settings;
    own.tracking = store::load_tracking(settings.state_dir, domain.uuid());
    return virt::snapshot_domain(conn, domain, own, log);
}

void copy_manifest(xml::Manifest& manifest, const std::string& dir, const copy::CopySettings& settings,
                   const util::Log& log) {
    copy::OutputFiles outputs(copy::prepare_backup_directory(dir));
    // The manifest is an output too: it may not land on a source either.
    std::vector<std::string> sources;
    for (const xml::ManifestDisk& disk : manifest.disks)
        for (const copy::SourceImage& image : copy::request_for(disk).chain)
            sources.push_back(image.path);
    copy::refuse_sources_as_outputs(outputs.dir(), {store::set_manifest_file}, sources);
    struct stat st {};
    if (!settings.force && ::lstat((outputs.dir() + "/" + store::set_manifest_file).c_str(), &st) == 0)
        throw util::RefusedError(quoted(outputs.dir() + "/" + store::set_manifest_file) +
                                 " already exists; nothing was copied (--force replaces it)");
    copy::copy_disks(manifest, settings, outputs, log);
    outputs.create_with(store::set_manifest_file, xml::to_xml(manifest));
    // Only now, with every copy complete and its checksums recorded, do the
    // files take their names (and, with --force, replace the old ones).
    outputs.publish_all(settings.force);
}

xml::Manifest read_backup_manifest(const std::string& dir) {
    const std::string path = dir + "/" + store::set_manifest_file;
    const std::string what = "manifest " + quoted(path);
    std::optional<std::string> text =
        util::read_strict_file_if_exists(AT_FDCWD, path, util::manifest_size_limit, what);
    if (!text)
        throw util::InputError(quoted(dir) + " is not a virtsnap backup directory (no manifest.xml)");
    return xml::parse_manifest(*text, what);
}

void commit_manifest(const xml::Manifest& manifest, const CommitSettings& settings, const util::Log& log) {
    virt::Connection conn = virt::Connection::open(settings.connect_uri);
    virt::Domain domain = conn.lookup(manifest.domain_uuid);
    if (domain.name() != manifest.domain_name)
        log.warn("the manifest calls domain " + manifest.domain_uuid + " " + quoted(manifest.domain_name) +
                 "; it is now " + quoted(domain.name()));
    store::DomainLock lock = store::DomainLock::acquire(settings.state_dir, domain.uuid(), domain.name());
    std::optional<store::StateRecord> record = store::load_state(settings.state_dir, domain.uuid());
    if (!record)
        throw util::RefusedError(
            "no virtsnap run is pending on domain " + quoted(domain.name()) + " in " +
            quoted(settings.state_dir) +
            " (already committed, or made with another --state-dir); nothing was changed");
    check_matches_record(manifest, *record, domain.name());
    // A backup run's snapshot is finished by --recover, which knows its
    // set; one whose overlays stay (stage keeping) must never be merged back.
    if (record->stage == store::Stage::keeping || !record->set_dir.empty())
        throw util::RefusedError(
            "snapshot " + record->snapshot_id + " of domain " + quoted(domain.name()) +
            " belongs to a virtsnap-backup run; finish it with 'virtsnap-commit --recover " + domain.name() +
            "'; nothing was changed");

    record->stage = store::Stage::committing;
    store::save_state(settings.state_dir, *record);
    virt::merge_overlays(conn, domain, record->snapshot_id, record->disks, settings.merge, log);
    store::remove_state(settings.state_dir, domain.uuid());
    log.info("snapshot " + manifest.snapshot_id + " of domain " + quoted(domain.name()) +
             " merged back; every disk is on its original chain");
}

bool recover_domain(const std::string& name, const CommitSettings& settings, const util::Log& log) {
    virt::Connection conn = virt::Connection::open(settings.connect_uri);
    virt::Domain domain = conn.lookup(name);
    store::DomainLock lock = store::DomainLock::acquire(settings.state_dir, domain.uuid(), domain.name());
    if (virt::recover_unfinished_run(conn, domain, settings.state_dir, settings.merge, log))
        return true;
    log.info("domain " + quoted(domain.name()) + " has no unfinished virtsnap run; nothing to do");
    return false;
}

bool end_tracking(const std::string& name, const CommitSettings& settings, const util::Log& log) {
    virt::Connection conn = virt::Connection::open(settings.connect_uri);
    virt::Domain domain = conn.lookup(name);
    store::DomainLock lock = store::DomainLock::acquire(settings.state_dir, domain.uuid(), domain.name());
    // An unfinished run first; without one, overlays no record explains
    // are what this merges back below, not a reason to stop.
    if (store::load_state(settings.state_dir, domain.uuid()))
        virt::recover_unfinished_run(conn, domain, settings.state_dir, settings.merge, log);
    std::optional<store::TrackingRecord> tracking;
    std::string damaged;
    try {
        tracking = store::load_tracking(settings.state_dir, domain.uuid());
    } catch (const util::InputError& error) {
        damaged = error.what();
    }
    if (!tracking) {
        // The record lost or unreadable: the overlays the domain runs on
        // say what it was. Merged back, the domain is on its own images.
        std::string snapshot_id;
        const std::vector<xml::SnapshotDisk> found = virt::overlays_in_use(domain, snapshot_id);
        if (!damaged.empty())
            log.warn(damaged + "; the kept overlays are found from the domain's definition instead");
        if (found.empty()) {
            if (!damaged.empty())
                store::remove_tracking(settings.state_dir, domain.uuid());
            log.info("domain " + quoted(domain.name()) + " is on no virtsnap overlay and has no " +
                     (damaged.empty() ? "" : "usable ") + "change record in " + quoted(settings.state_dir) +
                     "; nothing to do");
            return !damaged.empty();
        }
        virt::merge_overlays(conn, domain, snapshot_id, found, settings.merge, log);
        store::remove_tracking(settings.state_dir, domain.uuid());
        log.info("domain " + quoted(domain.name()) + " is back on its own images (its overlays of snapshot " +
                 snapshot_id + " merged without a change record); its next inc will be a full");
        return true;
    }
    // A disk detached since is no longer the domain's to merge: its kept
    // overlay is named, and left for the administrator.
    std::vector<xml::SnapshotDisk> attached;
    const std::string xml = domain.is_active() ? domain.xml() : domain.inactive_xml();
    for (const xml::SnapshotDisk& disk : tracking->disks) {
        if (xml::has_disk(xml, disk.target, "XML of domain " + domain.name()))
            attached.push_back(disk);
        else
            log.warn("disk " + quoted(disk.target) +
                     " of the change record is no longer attached; its kept overlay " + quoted(disk.overlay) +
                     " (over " + quoted(disk.frozen) + ") is left as it is");
    }
    virt::merge_overlays(conn, domain, tracking->overlay_id, attached, settings.merge, log);
    store::remove_tracking(settings.state_dir, domain.uuid());
    log.info("domain " + quoted(domain.name()) + " is back on its own images; its change record (set " +
             tracking->set_id + ") is removed, so its next inc will be a full");
    return true;
}

} // namespace virtsnap::job
