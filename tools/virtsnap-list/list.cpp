#include "list.hpp"

#include "job/set_listing.hpp"
#include "options.hpp"

#include <iostream>

namespace virtsnap::list {

cli::ExitStatus run_list(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    const Options& options = *parsed;
    const std::vector<store::BackupSet> sets = job::find_sets(options.dest, options.domain);
    std::cout << (options.json ? job::render_set_json(sets) : job::render_set_table(sets));
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::list
