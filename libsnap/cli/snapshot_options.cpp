#include "cli/snapshot_options.hpp"

#include "store/state_record.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "xml/manifest.hpp"

#include <boost/program_options/value_semantic.hpp>

#include <set>

namespace po = boost::program_options;

namespace virtsnap::cli {

void add_snapshot_options(po::options_description& desc, SnapshotOptions& options, bool with_snapshot_id) {
    virt::SnapshotSettings& s = options.settings;
    s.state_dir = store::default_state_dir;
    desc.add_options() //
        ("disk,d", po::value(&s.disks)->value_name("TARGET"),
         "only this disk (repeatable; default: every eligible disk)") //
        ("exclude-disk,x", po::value(&s.excluded_disks)->value_name("TARGET"),
         "leave this disk out (repeatable)") //
        ("quiesce", po::value(&options.quiesce)->value_name("MODE"),
         "auto (default): quiesce when the guest agent answers; require: fail without it; off") //
        ("freeze-timeout", po::value(&options.freeze_timeout)->value_name("DURATION"),
         "longest the guest may stay frozen (default 10s)") //
        ("agent-timeout", po::value(&options.agent_timeout)->value_name("DURATION"),
         "how long to wait for the guest agent to answer (default 5s)") //
        ("thaw-timeout", po::value(&options.thaw_timeout)->value_name("DURATION"),
         "how long to keep retrying a thaw that fails before reporting a frozen guest (default 60s)") //
        ("overlay-dir", po::value(&s.overlay_dir)->value_name("DIR"),
         "put the overlays here (default: next to each image; required for block devices)") //
        ("overlay-space", po::value(&options.overlay_space)->value_name("SIZE"),
         "free space each overlay filesystem must have (default: 10% of the disks' size, at least 64M)");
    if (with_snapshot_id)
        desc.add_options()("snapshot-id", po::value(&s.snapshot_id)->value_name("ID"),
                           "use this snapshot id (letters, digits, - and _; default: from the time)");
    desc.add_options()("state-dir", po::value(&s.state_dir)->value_name("DIR"),
                       "where state records and locks live (default /var/lib/virtsnap)");
}

void finish_snapshot_options(SnapshotOptions& options) {
    virt::SnapshotSettings& s = options.settings;
    s.quiesce = virt::parse_quiesce_mode(options.quiesce);
    s.freeze_timeout = util::parse_duration(options.freeze_timeout, "freeze-timeout");
    s.agent_timeout = util::parse_duration(options.agent_timeout, "agent-timeout");
    s.thaw_timeout = util::parse_duration(options.thaw_timeout, "thaw-timeout");
    if (s.freeze_timeout.count() == 0 || s.agent_timeout.count() == 0 || s.thaw_timeout.count() == 0)
        throw util::UsageError("--freeze-timeout, --agent-timeout and --thaw-timeout must be longer than 0");
    if (!options.overlay_space.empty())
        s.overlay_space = util::parse_size(options.overlay_space, "overlay-space");
    if (!s.snapshot_id.empty() && !xml::is_valid_snapshot_id(s.snapshot_id))
        throw util::UsageError("--snapshot-id " + util::quoted(s.snapshot_id) +
                               " may hold only letters, digits, '-' and '_' (at most 64)");
    check_disk_targets(s.disks, "disk");
    check_disk_targets(s.excluded_disks, "exclude-disk");
    if (s.state_dir.empty() || s.state_dir.front() != '/')
        throw util::UsageError("--state-dir must be an absolute path");
    if (!s.overlay_dir.empty() && s.overlay_dir.front() != '/')
        throw util::UsageError("--overlay-dir must be an absolute path");
}

void check_disk_targets(const std::vector<std::string>& targets, const std::string& option) {
    std::set<std::string> seen;
    for (const std::string& target : targets) {
        if (!xml::is_valid_target(target))
            throw util::UsageError("--" + option + " " + util::quoted(target) +
                                   " is not a disk target (like vda)");
        if (!seen.insert(target).second)
            throw util::UsageError("--" + option + " " + util::quoted(target) + " is named twice");
    }
}

} // namespace virtsnap::cli
