#include "options.hpp"

#include "cli/parse.hpp"
#include "store/state_record.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "xml/manifest.hpp"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace virtsnap::create {

std::optional<Options> parse_options(int argc, char** argv) {
    Options options;
    std::string quiesce = "auto", freeze_timeout = "10s", agent_timeout = "5s", overlay_space;
    options.state_dir = store::default_state_dir;

    cli::CommandLine line{"virtsnap-create",
                          "usage: virtsnap-create [OPTIONS] DOMAIN\n"
                          "Takes an atomic, quiesced, external disk-only snapshot of DOMAIN's disks and\n"
                          "prints its manifest on standard output.",
                          po::options_description("Options"),
                          po::options_description(),
                          {}};
    cli::add_common_options(line.visible, options.common, true);
    line.visible.add_options() //
        ("disk,d", po::value(&options.disks)->value_name("TARGET"),
         "snapshot only this disk (repeatable; default: every eligible disk)") //
        ("exclude-disk,x", po::value(&options.excluded_disks)->value_name("TARGET"),
         "leave this disk out (repeatable)") //
        ("quiesce", po::value(&quiesce)->value_name("MODE"),
         "auto (default): quiesce when the guest agent answers; require: fail without it; off") //
        ("freeze-timeout", po::value(&freeze_timeout)->value_name("DURATION"),
         "longest the guest may stay frozen (default 10s)") //
        ("agent-timeout", po::value(&agent_timeout)->value_name("DURATION"),
         "how long to wait for the guest agent to answer (default 5s)") //
        ("overlay-dir", po::value(&options.overlay_dir)->value_name("DIR"),
         "put the overlays here (default: next to each image; required for block devices)") //
        ("overlay-space", po::value(&overlay_space)->value_name("SIZE"),
         "free space each overlay filesystem must have (default: 10% of the disks' size, at least 64M)") //
        ("snapshot-id", po::value(&options.snapshot_id)->value_name("ID"),
         "use this snapshot id (letters, digits, - and _; default: from the time)") //
        ("state-dir", po::value(&options.state_dir)->value_name("DIR"),
         "where state records and locks live (default /var/lib/virtsnap)");
    line.hidden.add_options()("domain", po::value(&options.domain));
    line.positional.add("domain", 1);

    if (!cli::parse_command_line(argc, argv, line, options.common))
        return std::nullopt;
    if (options.domain.empty())
        throw util::UsageError("no domain given");
    options.quiesce = virt::parse_quiesce_mode(quiesce);
    options.freeze_timeout = util::parse_duration(freeze_timeout, "freeze-timeout");
    options.agent_timeout = util::parse_duration(agent_timeout, "agent-timeout");
    if (options.freeze_timeout.count() == 0 || options.agent_timeout.count() == 0)
        throw util::UsageError("--freeze-timeout and --agent-timeout must be longer than 0");
    if (!overlay_space.empty())
        options.overlay_space = util::parse_size(overlay_space, "overlay-space");
    if (!options.snapshot_id.empty() && !xml::is_valid_snapshot_id(options.snapshot_id))
        throw util::UsageError("--snapshot-id " + util::quoted(options.snapshot_id) +
                               " may hold only letters, digits, '-' and '_' (at most 64)");
    for (const std::string& target : options.disks)
        if (!xml::is_valid_target(target))
            throw util::UsageError("--disk " + util::quoted(target) + " is not a disk target (like vda)");
    if (options.state_dir.empty() || options.state_dir.front() != '/')
        throw util::UsageError("--state-dir must be an absolute path");
    if (!options.overlay_dir.empty() && options.overlay_dir.front() != '/')
        throw util::UsageError("--overlay-dir must be an absolute path");
    return options;
}

} // namespace virtsnap::create
