#include "copy/output_files.hpp"
#include "job/backup_paths.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/pause_point.hpp"
#include "util/phase_times.hpp"
#include "virt/early_merge.hpp"
#include "virt/pending_commit.hpp"

namespace virtsnap::job {

using util::quoted;

xml::Manifest backup_running(const virt::Connection& conn, const virt::Domain& domain,
                             const BackupSettings& settings, const TrackingState& tracking,
                             const std::string& id, SetDirectory& set, const util::Log& log) {
    virt::SnapshotSettings snapshot = settings.snapshot;
    snapshot.snapshot_id = id;
    snapshot.set_dir = set.path();
    snapshot.tracking = tracking.record;
    util::PhaseTimer reading("definitions");
    const Definitions definitions = read_definitions(domain);
    reading.stop();
    xml::Manifest manifest = virt::snapshot_domain(conn, domain, snapshot, log);
    // From here on the overlays are merged back on every path, whatever a
    // hook says.
    virt::PendingCommit commit(conn, domain, snapshot.state_dir, virt::snapshot_record(manifest, snapshot),
                               settings.merge, log);
    copy::CopySettings copy_settings = settings.copy;
    const LevelChoice level = settle_level(settings, tracking, set, manifest, copy_settings, log);
    const Hooks hooks(settings.hook, log);
    HookEnvironment environment = hook_environment(settings, domain.name(), set.path());
    for (auto& [name, value] : environment)
        if (name == "VIRTSNAP_LEVEL")
            value = to_string(level.level);
    environment.emplace_back("VIRTSNAP_FREEZE_MS",
                             std::to_string(std::max<std::int64_t>(manifest.freeze_ms, 0)));
    hooks.run("post-snapshot", environment);
    util::pause_point("before-copy");
    // Declared after the commit: on every path it ends (waiting for the
    // disks it is merging) before the commit merges the rest.
    virt::EarlyMerge early(conn, domain, manifest.snapshot_id, settings.merge, log);
    // A full or inc keeps its overlays: nothing to merge early.
    copy_and_verify(manifest, copy_settings, settings, set, log, [&](std::size_t disk) {
        if (level.level == Level::copy)
            early.push(manifest.disks.at(disk));
    });
    util::throw_if_interrupted();
    util::PhaseTimer completing("set completion");
    set.complete(definitions, manifest);
    completing.stop();
    early.finish();
    util::pause_point("before-commit");
    hooks.run("pre-commit", environment);
    try {
        util::PhaseTimer merging(level.level == Level::copy ? "merge back"
                                                            : "keep overlays, merge the ones below");
        if (level.level == Level::copy)
            commit.finish();
        else
            commit.keep();
        merging.stop();
        hooks.run("post-commit", environment);
    } catch (const util::Error& error) {
        throw util::Error(std::string(error.what()) + " (the backup set " + quoted(set.path()) +
                          " is complete; run 'virtsnap-commit --recover " + domain.name() + "')");
    }
    return manifest;
}

} // namespace virtsnap::job
