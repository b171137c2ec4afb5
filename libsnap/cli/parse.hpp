#pragma once
// The command-line parse every tool shares: visible options (printed by
// --help), hidden positional ones, and the answers to --help and --version.

#include "cli/common_options.hpp"

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/positional_options.hpp>
#include <boost/program_options/variables_map.hpp>

#include <functional>

#include <string>

namespace virtsnap::cli {

struct CommandLine {
    std::string program;
    std::string usage; // "usage: NAME [OPTIONS] DOMAIN" and a line on what it does
    boost::program_options::options_description visible;
    boost::program_options::options_description hidden;
    boost::program_options::positional_options_description positional;
    // When set, called with the command line's values stored (and before
    // they reach the bound variables) unless --help or --version was
    // given: where a configuration file adds its values (cli/config_file).
    std::function<void(boost::program_options::variables_map& vm)> after_command_line;
};

// Parses into the variables the descriptions are bound to. Returns false when
// --help or --version was answered on stdout and the tool should exit 0.
// Throws UsageError (via Boost's errors) for anything malformed.
bool parse_command_line(int argc, char** argv, CommandLine& line, const CommonOptions& common);

} // namespace virtsnap::cli
