#include "options.hpp"

#include "cli/parse.hpp"
#include "util/error.hpp"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace virtsnap::list {

std::optional<Options> parse_options(int argc, char** argv) {
    Options options;
    std::vector<std::string> args;
    cli::CommandLine line{"virtsnap-list",
                          "usage: virtsnap-list [OPTIONS] DEST [DOMAIN]\n"
                          "Lists the backup sets under DEST (of one DOMAIN), oldest first.",
                          po::options_description("Options"),
                          po::options_description(),
                          {}};
    cli::add_common_options(line.visible, options.common, false);
    line.visible.add_options()("json", po::bool_switch(&options.json),
                               "print a JSON array, one object per set (see the man page for its fields)");
    line.hidden.add_options()("args", po::value(&args));
    line.positional.add("args", -1);
    if (!cli::parse_command_line(argc, argv, line, options.common))
        return std::nullopt;
    if (args.empty())
        throw util::UsageError("no DEST given");
    if (args.size() > 2)
        throw util::UsageError("unexpected argument " + util::quoted(args[2]));
    options.dest = args[0];
    if (args.size() == 2)
        options.domain = args[1];
    return options;
}

} // namespace virtsnap::list
