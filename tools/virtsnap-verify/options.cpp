#include "options.hpp"

#include "cli/parse.hpp"
#include "util/error.hpp"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace virtsnap::verify_tool {

std::optional<Options> parse_options(int argc, char** argv) {
    Options options;
    std::vector<std::string> extra;
    options.manifest.clear(); // empty: not given, standard input
    cli::CommandLine line{"virtsnap-verify",
                          "usage: virtsnap-verify [OPTIONS] [-m MANIFEST]\n"
                          "       virtsnap-verify [OPTIONS] BACKUP_DIR\n"
                          "Verifies the backup copies a manifest names (against their frozen source, their\n"
                          "recorded checksums, their filesystems) and passes the manifest on.",
                          po::options_description("Options"),
                          po::options_description(),
                          {},
                          {}};
    cli::add_common_options(line.visible, options.common, false);
    line.visible.add_options() //
        ("manifest,m", po::value(&options.manifest)->value_name("FILE"),
         "read the manifest from FILE ('-', the default: standard input)") //
        ("source", po::bool_switch(&options.source),
         "compare each backup with its frozen source image (the default for a manifest)") //
        ("checksums", po::bool_switch(&options.checksums),
         "re-hash each backup file against its recorded checksums (the default for a BACKUP_DIR)") //
        ("qemu-checksums", po::bool_switch(&options.qemu_checksums),
         "hash each backup file where qemu-img map places its content against its recorded checksums") //
        ("filesystems", po::bool_switch(&options.filesystems),
         "check every filesystem of the backups, read-only, through libguestfs") //
        ("chain", po::bool_switch(&options.chain),
         "also check every set an incremental backup set depends on, down to the full set");
    line.hidden.add_options()("backup-dir", po::value(&extra));
    line.positional.add("backup-dir", -1);

    if (!cli::parse_command_line(argc, argv, line, options.common))
        return std::nullopt;
    const bool manifest_given = !options.manifest.empty();
    if (!manifest_given)
        options.manifest = "-";
    if (extra.size() > 1)
        throw util::UsageError("unexpected argument " + util::quoted(extra[1]) + " (one BACKUP_DIR at most)");
    if (!extra.empty()) {
        if (manifest_given)
            throw util::UsageError("a BACKUP_DIR and --manifest exclude each other");
        options.backup_dir = extra.front();
    }
    if (!options.source && !options.checksums && !options.qemu_checksums && !options.filesystems) {
        if (options.backup_dir.empty())
            options.source = true;
        else
            options.checksums = true;
    }
    return options;
}

} // namespace virtsnap::verify_tool
