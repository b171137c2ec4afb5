#include "backup_domain.hpp"

#include "copy/disk_copy.hpp"
#include "store/backup_set.hpp"
#include "store/domain_lock.hpp"
#include "store/durable_file.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/pause_point.hpp"
#include "verify/verify_queue.hpp"
#include "virt/disk_inventory.hpp"
#include "virt/domain_snapshot.hpp"
#include "virt/manifest_builder.hpp"
#include "virt/pending_commit.hpp"
#include "virt/start_watch.hpp"
#include "xml/disk_selection.hpp"

#include <cerrno>
#include <sys/stat.h>

namespace virtsnap::backup {

using util::quoted;

namespace {

// Removes the set directory unless the set was completed: a failed or
// interrupted run leaves no half-set behind.
class SetDirectory {
  public:
    explicit SetDirectory(std::string path) : path_(std::move(path)) {
        if (::mkdir(path_.c_str(), 0700) != 0)
            throw util::SystemError("cannot create the backup set directory " + quoted(path_), errno);
    }
    ~SetDirectory() {
        if (kept_)
            return;
        try {
            store::remove_set(path_);
        } catch (const std::exception&) {
            // Without its marker the set is never offered for restore, and the
            // next backup of the domain removes it.
        }
    }
    SetDirectory(const SetDirectory&) = delete;
    SetDirectory& operator=(const SetDirectory&) = delete;
    const std::string& path() const noexcept { return path_; }
    void keep() noexcept { kept_ = true; }

  private:
    std::string path_;
    bool kept_ = false;
};

copy::CopySettings copy_settings(const Options& options, const std::string& dir) {
    copy::CopySettings settings = options.copy;
    settings.dir = dir;
    return settings;
}

// Copies the disks and, unless --no-verify, compares each with its frozen
// image while the next is being copied.
void copy_and_verify(xml::Manifest& manifest, copy::CopySettings settings, const Options& options,
                     copy::CreatedFiles& created, const util::Log& log) {
    if (!options.verify) {
        copy::copy_disks(manifest, settings, created, log);
        return;
    }
    verify::VerifySettings verify_settings;
    verify_settings.dir = settings.dir;
    verify_settings.source = true;
    verify::VerifyQueue verifications(manifest, verify_settings, log);
    settings.copied = [&](size_t disk) { verifications.push(disk); };
    // A failed check fails the set: the disks still to copy would be wasted.
    settings.check = [&, check = settings.check] {
        if (check)
            check();
        if (verifications.failed())
            throw util::Error("stopped: a copy failed its verification");
    };
    try {
        copy::copy_disks(manifest, settings, created, log);
    } catch (const util::Error&) {
        // The verification's own error says more than the copy stopped for it.
        if (verifications.failed())
            verifications.finish();
        throw;
    }
    verifications.finish();
}

// The definitions as they are when the backup starts: before the snapshot
// changes the live one to the overlays.
struct Definitions {
    std::string persistent; // empty for a transient domain
    std::string live;       // empty for a shut-off domain
};

Definitions read_definitions(const virt::Domain& domain) {
    Definitions d;
    if (domain.is_persistent())
        d.persistent = domain.inactive_xml_secure();
    if (domain.is_active())
        d.live = domain.xml();
    return d;
}

void complete_set(const SetDirectory& set, const Definitions& definitions, const xml::Manifest& manifest) {
    if (!definitions.persistent.empty())
        store::write_durable(set.path() + "/" + store::set_domain_xml_file, definitions.persistent);
    if (!definitions.live.empty())
        store::write_durable(set.path() + "/" + store::set_live_domain_xml_file, definitions.live);
    store::write_durable(set.path() + "/" + store::set_manifest_file, xml::to_xml(manifest));
    util::pause_point("before-complete");
    store::mark_complete(set.path(), manifest.snapshot_id);
}

xml::Manifest backup_running(const virt::Connection& conn, const virt::Domain& domain, const Options& options,
                             const std::string& id, SetDirectory& set, const util::Log& log) {
    virt::SnapshotSettings settings = options.snapshot.settings;
    settings.snapshot_id = id;
    const Definitions definitions = read_definitions(domain);
    xml::Manifest manifest = virt::snapshot_domain(conn, domain, settings, log);
    // From here on the overlays are merged back on every path.
    virt::PendingCommit commit(conn, domain, settings.state_dir, manifest, options.merge, log);
    {
        copy::CreatedFiles created;
        util::pause_point("before-copy");
        copy_and_verify(manifest, copy_settings(options, set.path()), options, created, log);
        util::throw_if_interrupted();
        complete_set(set, definitions, manifest);
        created.keep();
        set.keep();
    }
    util::pause_point("before-commit");
    try {
        commit.finish();
    } catch (const util::Error& error) {
        throw util::Error(std::string(error.what()) + " (the backup set " + quoted(set.path()) +
                          " is complete; run 'virtsnap-commit --recover " + domain.name() + "')");
    }
    return manifest;
}

xml::Manifest backup_shut_off(const virt::Connection& conn, const virt::Domain& domain,
                              const Options& options, const std::string& id, SetDirectory& set,
                              const util::Log& log) {
    virt::StartWatch watch(conn, domain);
    const Definitions definitions = read_definitions(domain);
    if (watch.started())
        throw util::RefusedError("domain " + quoted(domain.name()) +
                                 " was started as its offline backup began; nothing was copied");
    const virt::SnapshotSettings& s = options.snapshot.settings;
    xml::DiskSelection selection =
        xml::select_disks(virt::read_domain_disks(domain), s.disks, s.excluded_disks, domain.name());
    for (const std::string& note : selection.notes)
        log.info(note);
    xml::Manifest manifest = virt::build_manifest(domain, selection.chosen, id, "", "", true);
    log.info("domain " + quoted(domain.name()) +
             " is shut off: copying its images as they are (no snapshot)");

    auto check_not_started = [&] {
        if (watch.started())
            throw util::Error("domain " + quoted(domain.name()) +
                              " was started during its offline backup, so the copy mixes two points in time; "
                              "the set is discarded and the running guest was not touched");
    };
    copy::CopySettings settings = copy_settings(options, set.path());
    // is_active() is a round trip to libvirtd: ask at most every 100 ms
    // (lifecycle events, when available, catch a start at once anyway).
    auto last = std::chrono::steady_clock::now();
    settings.check = [&] {
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::milliseconds(100))
            return;
        last = now;
        check_not_started();
    };
    copy::CreatedFiles created;
    util::pause_point("before-copy");
    copy_and_verify(manifest, settings, options, created, log);
    check_not_started();
    util::throw_if_interrupted();
    complete_set(set, definitions, manifest);
    created.keep();
    set.keep();
    return manifest;
}

void remove_incomplete_sets(const std::string& domain_dir, const util::Log& log) {
    // The lock is held: an incomplete set is no run's work in progress.
    for (const store::BackupSet& set : store::list_domain_sets(domain_dir))
        if (!set.complete) {
            log.info("removing the incomplete backup set " + quoted(set.path) + " left by a run that died");
            store::remove_set(set.path);
        }
}

std::size_t apply_retention(const std::string& domain_dir, unsigned keep, const util::Log& log) {
    std::vector<store::BackupSet> sets = store::list_domain_sets(domain_dir);
    std::size_t removed = 0;
    for (const store::BackupSet* set : store::sets_to_remove(sets, keep)) {
        log.info("--keep " + std::to_string(keep) + ": removing backup set " + quoted(set->path));
        store::remove_set(set->path);
        ++removed;
    }
    return removed;
}

} // namespace

SetSummary backup_domain(const virt::Connection& conn, const std::string& name, const Options& options,
                         const util::Log& log) {
    const auto start = std::chrono::steady_clock::now();
    virt::Domain domain = conn.lookup(name);
    const std::string& state_dir = options.snapshot.settings.state_dir;
    store::DomainLock lock = store::DomainLock::acquire(state_dir, domain.uuid(), domain.name());
    virt::recover_unfinished_run(conn, domain, state_dir, options.merge, log);
    util::throw_if_interrupted();

    const std::string domain_dir = store::domain_sets_dir(options.dest, domain.name());
    store::ensure_private_directory(domain_dir);
    remove_incomplete_sets(domain_dir, log);
    const std::string id = virt::new_snapshot_id();
    SetDirectory set(domain_dir + "/" + id);
    store::sync_directory(domain_dir);

    xml::Manifest manifest = domain.is_active() ? backup_running(conn, domain, options, id, set, log)
                                                : backup_shut_off(conn, domain, options, id, set, log);

    SetSummary summary;
    summary.domain = domain.name();
    summary.set_dir = set.path();
    summary.disks = manifest.disks.size();
    for (const xml::ManifestDisk& disk : manifest.disks)
        if (disk.backup)
            for (const xml::BackupFile& file : disk.backup->files) {
                summary.bytes_read += file.data_bytes;
                summary.bytes_written += file.allocated;
            }
    summary.offline = manifest.offline;
    summary.quiesced = manifest.quiesced;
    summary.freeze_ms = manifest.freeze_ms;
    summary.verified = options.verify;
    if (options.keep > 0)
        summary.removed_sets = apply_retention(domain_dir, options.keep, log);
    summary.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return summary;
}

std::string describe(const SetSummary& s) {
    std::string line = s.domain + ": " + std::to_string(s.disks) + " disk(s), " +
                       util::format_size(s.bytes_read) + " read, " + util::format_size(s.bytes_written) +
                       " written, " + std::to_string(s.duration.count()) + " ms; ";
    if (s.offline)
        line += "offline (domain shut off)";
    else if (s.quiesced)
        line += "quiesced, frozen for " + std::to_string(s.freeze_ms) + " ms";
    else
        line += "crash-consistent (not quiesced)";
    line += s.verified ? "; verified against the source" : "; not verified (--no-verify)";
    if (s.removed_sets > 0)
        line += "; " + std::to_string(s.removed_sets) + " old set(s) removed";
    return line + "; set " + s.set_dir;
}

} // namespace virtsnap::backup
