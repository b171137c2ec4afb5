#include "cli/copy_options.hpp"

#include "util/duration.hpp"
#include "util/error.hpp"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace virtsnap::cli {

void add_copy_options(po::options_description& desc, CopyOptions& options) {
    copy::CopySettings& settings = options.settings;
    desc.add_options()                                                                              //
        ("format", po::value(&settings.format)->value_name("FORMAT"), "qcow2 (the default) or raw") //
        ("compress", po::bool_switch(&settings.compress), "write compressed qcow2 clusters")        //
        ("jobs,j", po::value(&options.jobs)->value_name("N"), "copy N disks at the same time (default 1)");
}

void finish_copy_options(CopyOptions& options) {
    copy::CopySettings& settings = options.settings;
    settings.jobs = static_cast<unsigned>(util::parse_count(options.jobs, "jobs", 1, 64));
    if (settings.format != "qcow2" && settings.format != "raw")
        throw util::UsageError("--format must be qcow2 or raw, not " + util::quoted(settings.format));
    if (settings.format == "raw" && (settings.keep_chain || settings.compress))
        throw util::UsageError(std::string(settings.keep_chain ? "--keep-chain" : "--compress") +
                               " needs --format qcow2 (a raw image has no backing file and no compression)");
}

} // namespace virtsnap::cli
