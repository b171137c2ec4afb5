#include "options.hpp"

#include "cli/parse.hpp"
#include "cli/snapshot_options.hpp"
#include "util/error.hpp"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace virtsnap::mount {

using util::quoted;

std::optional<Options> parse_options(int argc, char** argv) {
    Options options;
    std::vector<std::string> args;
    bool until_given = false;
    bool unmount = false;
    bool nbd_given = false;
    cli::CommandLine line{"virtsnap-mount",
                          "usage: virtsnap-mount [OPTIONS] SET MOUNTPOINT\n"
                          "       virtsnap-mount [OPTIONS] SET --nbd SOCKET\n"
                          "       virtsnap-mount -u MOUNTPOINT\n"
                          "Shows a backup set's guest filesystems read-only on MOUNTPOINT, or exports one\n"
                          "of its disks read-only over NBD, until a signal or virtsnap-mount -u. SET is a\n"
                          "set's directory, or DOMAIN_DIR --until SET_ID (or --until latest).",
                          po::options_description("Options"),
                          po::options_description(),
                          {},
                          {}};
    cli::add_common_options(line.visible, options.common, false);
    line.visible.add_options() //
        ("until", po::value(&options.until)->value_name("SET_ID")->notifier([&](const std::string&) {
            until_given = true;
        }),
         "the argument is a domain's directory of sets (DEST/DOMAIN): mount its set SET_ID, or with "
         "'latest' its newest complete set") //
        ("disk,d", po::value(&options.disks)->value_name("TARGET"),
         "only this disk (repeatable; default: every disk of the set; --nbd: the one disk to export)") //
        ("nbd", po::value(&options.socket)->value_name("SOCKET")->notifier([&](const std::string&) {
            nbd_given = true;
        }),
         "export the disk read-only over NBD on this new Unix socket instead of mounting") //
        ("force", po::bool_switch(&options.force),
         "mount or export a set whose checksums show damage, with a warning naming it") //
        ("unmount,u", po::bool_switch(&unmount),
         "unmount the virtsnap-mount mount on MOUNTPOINT and wait for its process to end");
    line.hidden.add_options()("args", po::value(&args));
    line.positional.add("args", -1);
    if (!cli::parse_command_line(argc, argv, line, options.common))
        return std::nullopt;

    if (unmount) {
        if (until_given || !options.disks.empty() || nbd_given || options.force)
            throw util::UsageError("-u takes only the mount point");
        if (args.size() != 1)
            throw util::UsageError(args.empty() ? "no mount point given to -u"
                                                : "unexpected argument " + quoted(args[1]));
        options.mode = Mode::unmount;
        options.mount_point = args[0];
        return options;
    }
    if (args.empty())
        throw util::UsageError(until_given ? "no domain directory given for --until" : "no backup set given");
    if (until_given && options.until.empty())
        throw util::UsageError("--until needs a set id or latest");
    if (nbd_given && options.socket.empty())
        throw util::UsageError("--nbd needs the path of the socket to make");
    options.set = args[0];
    const size_t wanted = options.socket.empty() ? 2 : 1;
    if (args.size() < wanted)
        throw util::UsageError("no mount point given (or export a disk with --nbd SOCKET)");
    if (args.size() > wanted)
        throw util::UsageError("unexpected argument " + quoted(args[wanted]) +
                               (options.socket.empty() ? "" : " (--nbd takes no mount point)"));
    if (!options.socket.empty()) {
        options.mode = Mode::nbd;
        if (options.disks.size() > 1)
            throw util::UsageError("--nbd exports one disk; give at most one -d");
    } else {
        options.mount_point = args[1];
    }
    cli::check_disk_targets(options.disks, "disk");
    return options;
}

} // namespace virtsnap::mount
