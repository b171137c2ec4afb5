#include "options.hpp"

#include "cli/parse.hpp"
#include "util/duration.hpp"
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
                          {},
                          {}};
    cli::add_common_options(line.visible, options.common, false);
    std::string max_age;
    line.visible.add_options()("json", po::bool_switch(&options.json),
                               "print a JSON array, one object per set (see the man page for its fields)")(
        "summary", po::bool_switch(&options.summary),
        "one line per domain: its newest complete set, that set's age, the sets and their size, and a "
        "verdict; exit 0 OK, 1 WARNING, 2 CRITICAL (a monitoring check)")(
        "max-age", po::value(&max_age)->value_name("DURATION"),
        "with --summary: a domain whose newest complete set is older is CRITICAL (units s, m, h)")(
        "tree", po::bool_switch(&options.tree),
        "show each domain's sets as chains: every full set with the incremental sets that depend on it "
        "indented below it, orphans marked");
    line.hidden.add_options()("args", po::value(&args));
    line.positional.add("args", -1);
    if (!cli::parse_command_line(argc, argv, line, options.common))
        return std::nullopt;
    if (args.empty())
        throw util::UsageError("no DEST given");
    if (args.size() > 2)
        throw util::UsageError("unexpected argument " + util::quoted(args[2]));
    if (options.tree && (options.json || options.summary))
        throw util::UsageError("--tree is a view for people; it goes with neither --json nor --summary");
    if (!max_age.empty()) {
        if (!options.summary)
            throw util::UsageError("--max-age goes with --summary");
        const auto ms = util::parse_duration(max_age, "max-age");
        if (ms.count() == 0)
            throw util::UsageError("--max-age must be more than 0");
        options.max_age = std::chrono::duration_cast<std::chrono::seconds>(ms);
    }
    options.dest = args[0];
    if (args.size() == 2)
        options.domain = args[1];
    return options;
}

} // namespace virtsnap::list
