#include "job/backup_paths.hpp"
#include "store/state_record.hpp"
#include "store/tracking_record.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/pause_point.hpp"
#include "util/phase_times.hpp"
#include "virt/disk_inventory.hpp"
#include "virt/manifest_builder.hpp"
#include "virt/start_watch.hpp"
#include "xml/disk_selection.hpp"

#include <atomic>
#include <chrono>

namespace virtsnap::job {

using util::quoted;

namespace {

// An offline backup changes no image, but a run killed in the middle of it
// leaves an incomplete set: its state record (no disks, the set) lets
// 'virtsnap-commit --recover' remove it. Removed on every other path.
class OfflineRecord {
  public:
    OfflineRecord(std::string state_dir, const xml::Manifest& manifest, const std::string& set_dir)
        : state_dir_(std::move(state_dir)), uuid_(manifest.domain_uuid) {
        store::StateRecord record;
        record.domain_name = manifest.domain_name;
        record.domain_uuid = manifest.domain_uuid;
        record.snapshot_id = manifest.snapshot_id;
        record.set_dir = set_dir;
        store::save_state(state_dir_, record);
    }
    ~OfflineRecord() {
        try {
            store::remove_state(state_dir_, uuid_);
        } catch (const std::exception&) {
            // Left for --recover, which finds nothing to merge.
        }
    }
    OfflineRecord(const OfflineRecord&) = delete;
    OfflineRecord& operator=(const OfflineRecord&) = delete;

  private:
    std::string state_dir_;
    std::string uuid_;
};

} // namespace

xml::Manifest backup_shut_off(const virt::Connection& conn, const virt::Domain& domain,
                              const BackupSettings& settings, const TrackingState& tracking,
                              const std::string& id, SetDirectory& set, const util::Log& log) {
    virt::StartWatch watch(conn, domain);
    const Definitions definitions = read_definitions(domain);
    if (watch.started())
        throw util::RefusedError("domain " + quoted(domain.name()) +
                                 " was started as its offline backup began; nothing was copied");
    const virt::SnapshotSettings& s = settings.snapshot;
    xml::DiskSelection selection =
        xml::select_disks(virt::read_domain_disks(domain), s.disks, s.excluded_disks, domain.name());
    for (const std::string& note : selection.notes)
        log.info(note);
    xml::Manifest manifest = virt::build_manifest(domain, selection.chosen, id, "", "", true);
    log.info("domain " + quoted(domain.name()) +
             " is shut off: copying its images as they are (no snapshot)");
    OfflineRecord record(s.state_dir, manifest, set.path());

    auto check_not_started = [&] {
        if (watch.started())
            throw util::Error("domain " + quoted(domain.name()) +
                              " was started during its offline backup, so the copy mixes two points in time; "
                              "the set is discarded and the running guest was not touched");
    };
    copy::CopySettings copy_settings = settings.copy;
    const LevelChoice level = settle_level(settings, tracking, set, manifest, copy_settings, log);
    // is_active() is a round trip to libvirtd: ask at most every 100 ms
    // (lifecycle events, when available, catch a start at once anyway).
    // With --jobs several copying threads ask, hence the atomic.
    using Clock = std::chrono::steady_clock;
    std::atomic<Clock::rep> last{Clock::now().time_since_epoch().count()};
    copy_settings.check = [&] {
        const Clock::rep now = Clock::now().time_since_epoch().count();
        Clock::rep seen = last.load();
        const auto interval =
            std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(100)).count();
        if (now - seen < interval || !last.compare_exchange_strong(seen, now))
            return;
        check_not_started();
    };
    util::pause_point("before-copy");
    copy_and_verify(manifest, copy_settings, settings, set, log);
    check_not_started();
    util::throw_if_interrupted();
    util::PhaseTimer completing("set completion");
    set.complete(definitions, manifest);
    // (A set id not newer than the record's, from a clock that went back,
    // would make a record that does not read back.)
    if (level.level != Level::copy && tracking.record && manifest.snapshot_id > tracking.record->set_id) {
        // The kept overlays hold every write since the record's set, and a
        // shut-off guest wrote nothing since this one: the record may name
        // it (the next incremental then copies some clusters again).
        store::TrackingRecord next = *tracking.record;
        next.set_id = manifest.snapshot_id;
        next.domain_dir = set.path().substr(0, set.path().find_last_of('/'));
        store::stamp_files(next);
        store::save_tracking(s.state_dir, next);
    }
    return manifest;
}

} // namespace virtsnap::job
