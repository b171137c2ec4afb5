#include "options.hpp"

#include "cli/parse.hpp"
#include "util/error.hpp"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace virtsnap::create {

std::optional<Options> parse_options(int argc, char** argv) {
    Options options;
    cli::CommandLine line{"virtsnap-create",
                          "usage: virtsnap-create [OPTIONS] DOMAIN\n"
                          "Takes an atomic, quiesced, external disk-only snapshot of DOMAIN's disks and\n"
                          "prints its manifest on standard output.",
                          po::options_description("Options"),
                          po::options_description(),
                          {},
                          {}};
    cli::add_common_options(line.visible, options.common, true);
    cli::add_snapshot_options(line.visible, options.snapshot, true);
    line.hidden.add_options()("domain", po::value(&options.domain));
    line.positional.add("domain", 1);

    if (!cli::parse_command_line(argc, argv, line, options.common))
        return std::nullopt;
    if (options.domain.empty())
        throw util::UsageError("no domain given");
    cli::finish_snapshot_options(options.snapshot);
    return options;
}

} // namespace virtsnap::create
