#include "options.hpp"

#include "cli/instant_options.hpp"
#include "cli/parse.hpp"
#include "cli/snapshot_options.hpp"
#include "store/state_record.hpp"
#include "util/error.hpp"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace virtsnap::restore {

std::optional<Options> parse_options(int argc, char** argv) {
    Options options;
    std::vector<std::string> args;
    bool defined = false; // --define given, if only with an empty name
    cli::CommandLine line{"virtsnap-restore",
                          "usage: virtsnap-restore [OPTIONS] SET -o DIR\n"
                          "       virtsnap-restore [OPTIONS] SET -o DIR --define NAME --instant\n"
                          "       virtsnap-restore [OPTIONS] --finish NAME\n"
                          "       virtsnap-restore [OPTIONS] SET --file GUEST_PATH --to HOST_PATH\n"
                          "Restores a backup set's disks as images in DIR with a domain XML for them,\n"
                          "or one file from inside a backed-up disk. SET is a set's directory, or\n"
                          "DOMAIN_DIR --until SET_ID (or --until latest).",
                          po::options_description("Options"),
                          po::options_description(),
                          {},
                          {}};
    bool until_given = false;
    bool finish_given = false;
    std::string bandwidth;
    options.state_dir = store::default_state_dir;
    cli::add_common_options(line.visible, options.common, true);
    line.visible.add_options() //
        ("until", po::value(&options.until)->value_name("SET_ID")->notifier([&](const std::string&) {
            until_given = true;
        }),
         "the argument is a domain's directory of sets (DEST/DOMAIN): restore its set SET_ID, or with "
         "'latest' its newest complete set") //
        ("output-dir,o", po::value(&options.restore.output_dir)->value_name("DIR"),
         "write the restored images and domain.xml into DIR (created, mode 0711, when missing)") //
        ("format", po::value(&options.restore.format)->value_name("FORMAT"),
         "qcow2 or raw (default: each disk's own format, qcow2 for others)") //
        ("disk,d", po::value(&options.restore.disks)->value_name("TARGET"),
         "restore only this disk (repeatable; default: every disk of the set)") //
        ("define",
         po::value(&options.restore.define_name)->value_name("NAME")->notifier([&](const std::string&) {
             defined = true;
         }),
         "define the result as a new domain NAME (new UUID and MAC addresses)") //
        ("force", po::bool_switch(&options.restore.force),
         "replace files that exist, including a shut-off domain's images") //
        ("file", po::value(&options.guest_path)->value_name("GUEST_PATH"),
         "restore this one file from inside the backup (with --to)")                                   //
        ("to", po::value(&options.host_path)->value_name("HOST_PATH"), "where --file writes the file") //
        ("instant", po::bool_switch(&options.instant),
         "with --define: start the domain at once on images backed by the set, then pull the data into them "
         "while it runs") //
        ("bandwidth", po::value(&bandwidth)->value_name("MIB"),
         "with --instant or --finish: pull at most MIB MiB/s per disk (default: no limit)") //
        ("finish", po::value(&options.finish)->value_name("NAME")->notifier([&](const std::string&) {
            finish_given = true;
        }),
         "complete the instant restore of domain NAME that was interrupted (or see there is nothing to "
         "do)") //
        ("state-dir", po::value(&options.state_dir)->value_name("DIR"),
         "where instant-restore records live (default /var/lib/virtsnap)");
    line.hidden.add_options()("args", po::value(&args));
    line.positional.add("args", -1);
    if (!cli::parse_command_line(argc, argv, line, options.common))
        return std::nullopt;
    cli::InstantChoice choice;
    choice.instant = options.instant;
    choice.finish = finish_given;
    choice.set = !args.empty();
    choice.output = !options.restore.output_dir.empty();
    choice.define = defined;
    choice.format = options.restore.format;
    choice.disks = !options.restore.disks.empty();
    choice.file = !options.guest_path.empty() || !options.host_path.empty();
    choice.force = options.restore.force;
    choice.until = until_given;
    choice.bandwidth = bandwidth;
    options.bandwidth_mib = cli::check_instant_choice(choice);
    if (options.state_dir.empty() || options.state_dir.front() != '/')
        throw util::UsageError("--state-dir must be an absolute path");
    if (finish_given) {
        if (options.finish.empty() || options.finish.find('/') != std::string::npos)
            throw util::UsageError("--finish needs the restored domain's name");
        options.restore.connect_uri = options.common.connect_uri;
        return options;
    }
    if (args.empty())
        throw util::UsageError(until_given ? "no domain directory given for --until" : "no backup set given");
    if (until_given && options.until.empty())
        throw util::UsageError("--until needs a set id or latest");
    if (args.size() > 1)
        throw util::UsageError("unexpected argument " + util::quoted(args[1]));
    options.set = args[0];
    const bool file_mode = !options.guest_path.empty() || !options.host_path.empty();
    if (file_mode) {
        if (options.guest_path.empty() || options.host_path.empty())
            throw util::UsageError("--file and --to go together");
        if (options.guest_path.front() != '/')
            throw util::UsageError("--file takes an absolute path inside the guest, not " +
                                   util::quoted(options.guest_path));
        if (!options.restore.output_dir.empty() || !options.restore.define_name.empty() ||
            !options.restore.format.empty())
            throw util::UsageError("--file restores one file; -o, --define and --format restore disks");
    } else if (options.restore.output_dir.empty()) {
        throw util::UsageError("no destination: name one with -o DIR (or restore a file with --file/--to)");
    }
    if (!options.restore.format.empty() && options.restore.format != "qcow2" &&
        options.restore.format != "raw")
        throw util::UsageError("--format must be qcow2 or raw, not " + util::quoted(options.restore.format));
    cli::check_disk_targets(options.restore.disks, "disk");
    if (defined && options.restore.define_name.empty())
        throw util::UsageError("--define needs the new domain's name");
    if (!options.restore.define_name.empty() && options.restore.define_name.find('/') != std::string::npos)
        throw util::UsageError("--define " + util::quoted(options.restore.define_name) +
                               " is not a domain name");
    options.restore.connect_uri = options.common.connect_uri;
    return options;
}

} // namespace virtsnap::restore
