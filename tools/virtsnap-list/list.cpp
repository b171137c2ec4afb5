#include "list.hpp"

#include "job/set_listing.hpp"
#include "job/set_summary.hpp"
#include "job/set_tree.hpp"
#include "options.hpp"

#include <ctime>
#include <iostream>

namespace virtsnap::list {

cli::ExitStatus run_list(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    const Options& options = *parsed;
    const std::vector<store::BackupSet> sets = job::find_sets(options.dest, options.domain);
    if (options.summary) {
        const std::vector<job::DomainSummary> domains =
            job::summarize_sets(sets, std::time(nullptr), options.max_age);
        std::cout << (options.json ? job::render_summary_json(domains, options.max_age)
                                   : job::render_summary_table(domains, options.max_age));
        // Nagios plugin conventions (virtsnap-list(1)): 1 WARNING, 2 CRITICAL.
        return static_cast<cli::ExitStatus>(job::overall_verdict(domains));
    }
    std::cout << (options.tree   ? job::render_set_tree(job::set_rows(sets))
                  : options.json ? job::render_set_json(sets)
                                 : job::render_set_table(sets));
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::list
