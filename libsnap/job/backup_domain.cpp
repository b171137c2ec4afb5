#include "job/backup_domain.hpp"

#include "job/backup_paths.hpp"
#include "job/retention.hpp"
#include "job/synthetic_full.hpp"
#include "store/domain_lock.hpp"
#include "store/durable_file.hpp"
#include "store/instant_record.hpp"
#include "store/set_layout.hpp"
#include "store/tracking_record.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/phase_times.hpp"
#include "virt/manifest_builder.hpp"
#include "virt/pending_commit.hpp"

#include <exception>
#include <sys/stat.h>

namespace virtsnap::job {

SetSummary backup_domain(const virt::Connection& conn, const std::string& name,
                         const BackupSettings& settings, const util::Log& log) {
    const auto start = std::chrono::steady_clock::now();
    util::take_phases(); // what an earlier domain of the run left
    util::PhaseTimer preparing("lock and recovery check");
    virt::Domain domain = conn.lookup(name);
    const std::string& state_dir = settings.snapshot.state_dir;
    store::DomainLock lock = store::DomainLock::acquire(state_dir, domain.uuid(), domain.name());
    virt::recover_unfinished_run(conn, domain, state_dir, settings.merge, log);
    util::throw_if_interrupted();
    preparing.stop();

    const std::string domain_dir = store::domain_sets_dir(settings.dest, domain.name());
    store::ensure_private_directory(domain_dir);
    // Sets are removed under it: a link would lead that elsewhere.
    struct stat st {};
    if (::lstat(domain_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw util::RefusedError(util::quoted(domain_dir) +
                                 " is not a directory of its own (a symbolic link?); nothing was backed up");
    // A --synthetic-full run that died may have left a set mid-swap: put
    // right before anything reads the sets.
    finish_synthetic_fulls(lock, domain_dir, log);
    remove_incomplete_sets(domain_dir, log);
    const std::string id = virt::new_snapshot_id();
    // The last moment a hook can still say no: nothing was changed yet.
    Hooks(settings.hook, log)
        .require("backup-start", hook_environment(settings, domain.name(), domain_dir + "/" + id));
    SetDirectory set(domain_dir + "/" + id);
    store::sync_directory(domain_dir);

    const TrackingState tracking = current_tracking(domain, state_dir, log);
    if (settings.level != Level::copy)
        check_record_covered(tracking, settings.snapshot.disks, settings.snapshot.excluded_disks);
    xml::Manifest manifest = domain.is_active()
                                 ? backup_running(conn, domain, settings, tracking, id, set, log)
                                 : backup_shut_off(conn, domain, settings, tracking, id, set, log);

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
    summary.level = manifest.level == "inc"    ? Level::inc
                    : manifest.level == "diff" ? Level::diff
                    : manifest.level == "full" ? Level::full
                                               : Level::copy;
    summary.level_reason = manifest.level_reason;
    summary.quiesced = manifest.quiesced;
    summary.freeze_ms = manifest.freeze_ms;
    summary.verified = settings.verify;
    summary.verification = settings.verification;
    if (settings.keep > 0) {
        // The set the change record continues is the next inc's parent.
        std::vector<std::string> pinned;
        if (std::optional<store::TrackingRecord> record = store::load_tracking(state_dir, domain.uuid()))
            if (record->domain_dir == domain_dir)
                pinned.push_back(record->set_id);
        // A domain restored with --instant may still read sets of this
        // directory (its record outlives the restore's process and pin).
        const store::InstantPins instant = store::instant_pins(state_dir, domain_dir);
        for (const std::string& warning : instant.warnings)
            log.warn(warning);
        for (size_t i = 0; i < instant.set_ids.size(); ++i) {
            log.info("keeping backup set " + util::quoted(domain_dir + "/" + instant.set_ids[i]) +
                     " and the sets below it: " + instant.reasons[i]);
            pinned.push_back(instant.set_ids[i]);
        }
        // A synthetic full that failed left every set as it was: retention
        // still runs (keeping the chain), then the run fails with its error.
        std::exception_ptr merge_error;
        if (settings.synthetic_full) {
            util::PhaseTimer merging("synthetic full");
            SyntheticFullSettings synthetic;
            synthetic.compress = settings.copy.compress;
            try {
                summary.synthetic_full =
                    merge_oldest_kept(lock, domain_dir, settings.keep, id, pinned, synthetic, log);
            } catch (const util::Interrupted&) {
                throw;
            } catch (const util::Error&) {
                merge_error = std::current_exception();
            }
        }
        util::PhaseTimer retention("retention");
        summary.removed_sets = apply_retention(domain_dir, settings.keep, id, log, pinned);
        if (merge_error)
            std::rethrow_exception(merge_error);
    }
    summary.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    log.debug("phases of the backup of domain " + util::quoted(domain.name()) + " (from its start):");
    for (const std::string& line : util::phase_report(util::take_phases(), start, summary.duration))
        log.debug(line);
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
    if (!s.verified)
        line += "; not verified (--no-verify)";
    else if (s.verification == Verification::qemu_checksums)
        line += "; verified as QEMU maps it against the checksums of the source";
    else
        line += "; verified against the source";
    if (s.level != Level::copy)
        line += std::string("; level ") + to_string(s.level);
    if (!s.synthetic_full.empty())
        line += "; set " + s.synthetic_full + " made a full of its own (--synthetic-full)";
    if (s.removed_sets > 0)
        line += "; " + std::to_string(s.removed_sets) + " old set(s) removed";
    return line + "; set " + s.set_dir;
}

} // namespace virtsnap::job
