#include "cli/parse.hpp"

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace virtsnap::cli {

bool parse_command_line(int argc, char** argv, CommandLine& line, const CommonOptions& common) {
    po::options_description all;
    all.add(line.visible).add(line.hidden);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(line.positional).run(), vm);
    auto asked = [&vm](const char* name) { return vm.count(name) && vm[name].as<bool>(); };
    if (line.after_command_line && !asked("help") && !asked("version"))
        line.after_command_line(vm);
    po::notify(vm);
    if (common.help) {
        std::cout << line.usage << "\n\n"
                  << line.visible << "\nSee man " << line.program << " for details.\n";
        return false;
    }
    if (common.version) {
        std::cout << version_line(line.program) << "\n";
        return false;
    }
    check_common_options(common);
    return true;
}

} // namespace virtsnap::cli
