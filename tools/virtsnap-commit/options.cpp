#include "options.hpp"

#include "cli/parse.hpp"
#include "store/state_record.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace virtsnap::commit {

std::optional<Options> parse_options(int argc, char** argv) {
    Options options;
    std::string timeout = "30m";
    std::string bandwidth = "0";
    std::vector<std::string> extra;
    options.commit.state_dir = store::default_state_dir;

    cli::CommandLine line{"virtsnap-commit",
                          "usage: virtsnap-commit [OPTIONS] [-m MANIFEST]\n"
                          "       virtsnap-commit [OPTIONS] --recover DOMAIN\n"
                          "       virtsnap-commit [OPTIONS] --end-tracking DOMAIN\n"
                          "Merges a snapshot's overlays back into the images they were taken from and\n"
                          "removes them; --recover finishes whatever an interrupted run left.",
                          po::options_description("Options"),
                          po::options_description(),
                          {},
                          {}};
    cli::add_common_options(line.visible, options.common, true);
    line.visible.add_options() //
        ("manifest,m", po::value(&options.manifest)->value_name("FILE"),
         "read the manifest from FILE ('-', the default: standard input)") //
        ("recover", po::value(&options.recover_domain)->value_name("DOMAIN"),
         "finish any half-done virtsnap run on DOMAIN, from its state record") //
        ("end-tracking", po::value(&options.end_tracking)->value_name("DOMAIN"),
         "merge the overlays a full or inc backup kept as DOMAIN's change record back into its images, "
         "and remove the record") //
        ("timeout", po::value(&timeout)->value_name("DURATION"),
         "give up on a disk whose commit has not converged after this long (default 30m; 0: never)") //
        ("bandwidth", po::value(&bandwidth)->value_name("MIB"),
         "limit each commit to MIB MiB/s (default 0: unlimited)") //
        ("state-dir", po::value(&options.commit.state_dir)->value_name("DIR"),
         "where state records and locks live (default /var/lib/virtsnap)");
    line.hidden.add_options()("extra", po::value(&extra));
    line.positional.add("extra", -1);

    if (!cli::parse_command_line(argc, argv, line, options.common))
        return std::nullopt;
    if (!extra.empty())
        throw util::UsageError("unexpected argument " + util::quoted(extra.front()) +
                               " (the manifest comes with -m or on standard input; a domain with --recover)");
    if (!options.recover_domain.empty() && options.manifest != "-")
        throw util::UsageError("--recover and --manifest exclude each other");
    if (!options.end_tracking.empty() && (options.manifest != "-" || !options.recover_domain.empty()))
        throw util::UsageError("--end-tracking goes with neither --manifest nor --recover");
    options.commit.merge.timeout = util::parse_duration(timeout, "timeout");
    options.commit.merge.bandwidth_mib =
        static_cast<unsigned long>(util::parse_count(bandwidth, "bandwidth", 0, virt::max_bandwidth_mib));
    options.commit.connect_uri = options.common.connect_uri;
    if (options.commit.state_dir.empty() || options.commit.state_dir.front() != '/')
        throw util::UsageError("--state-dir must be an absolute path");
    return options;
}

} // namespace virtsnap::commit
