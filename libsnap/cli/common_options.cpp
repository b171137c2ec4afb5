#include "cli/common_options.hpp"

#include "util/error.hpp"
#include "version.hpp"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace virtsnap::cli {

util::Verbosity CommonOptions::verbosity() const {
    if (quiet)
        return util::Verbosity::quiet;
    return verbose ? util::Verbosity::verbose : util::Verbosity::normal;
}

void add_common_options(po::options_description& desc, CommonOptions& options, bool with_connect) {
    if (with_connect) {
        desc.add_options()("connect,c", po::value(&options.connect_uri)->value_name("URI"),
                           "libvirt connection URI (default: libvirt's own, honouring "
                           "LIBVIRT_DEFAULT_URI)");
    }
    desc.add_options()                                                                 //
        ("quiet,q", po::bool_switch(&options.quiet), "print only warnings and errors") //
        ("verbose,v", po::bool_switch(&options.verbose), "print details of each step") //
        ("help,h", po::bool_switch(&options.help), "print this help and exit")         //
        ("version,V", po::bool_switch(&options.version), "print the version and exit");
}

void check_common_options(const CommonOptions& options) {
    if (options.quiet && options.verbose)
        throw util::UsageError("--quiet and --verbose contradict each other");
}

std::string version_line(const std::string& program) {
    return program + " (virtsnap) " + VIRTSNAP_VERSION;
}

} // namespace virtsnap::cli
