#include "options.hpp"

#include "cli/copy_options.hpp"
#include "cli/parse.hpp"
#include "util/error.hpp"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace virtsnap::copy_tool {

std::optional<Options> parse_options(int argc, char** argv) {
    Options options;
    std::vector<std::string> extra;
    cli::CopyOptions copy;
    cli::CommandLine line{"virtsnap-copy",
                          "usage: virtsnap-copy [OPTIONS] -o DIR [-m MANIFEST]\n"
                          "Copies the frozen images a manifest names into DIR as standalone qcow2 or raw\n"
                          "images, with checksums, and prints the manifest extended with the copies.",
                          po::options_description("Options"),
                          po::options_description(),
                          {},
                          {}};
    cli::add_common_options(line.visible, options.common, false);
    line.visible.add_options() //
        ("output-dir,o", po::value(&options.output_dir)->value_name("DIR"),
         "write the backup images into DIR (created, mode 0700, when missing)") //
        ("manifest,m", po::value(&options.manifest)->value_name("FILE"),
         "read the manifest from FILE ('-', the default: standard input)") //
        ("keep-chain", po::bool_switch(&copy.settings.keep_chain),
         "copy a disk's backing chain as a chain of qcow2 files with relative backing names, "
         "instead of flattening it into one image") //
        ("force", po::bool_switch(&copy.settings.force), "replace backup files that already exist in DIR");
    cli::add_copy_options(line.visible, copy);
    line.hidden.add_options()("extra", po::value(&extra));
    line.positional.add("extra", -1);

    if (!cli::parse_command_line(argc, argv, line, options.common))
        return std::nullopt;
    if (!extra.empty())
        throw util::UsageError("unexpected argument " + util::quoted(extra.front()) +
                               " (the manifest comes with -m or on standard input)");
    if (options.output_dir.empty())
        throw util::UsageError("no destination: name one with -o DIR");
    cli::finish_copy_options(copy);
    options.copy = copy.settings;
    // The pipeline's next step, virtsnap-verify, compares each copy with its
    // frozen image: read through the page cache, it finds it there.
    options.copy.source_read_again = true;
    return options;
}

} // namespace virtsnap::copy_tool
