#pragma once
// virtsnap-list --tree: each domain's sets as chains, for people. A set
// that starts a chain (full, copy, and every set whose manifest cannot be
// read) is a root; each set on a parent set (an incremental one) is shown
// below the root its chain of parents leads to, oldest first, with its
// parent named. A set whose parent set is not among the domain's sets
// (missing, a link, not a set directory) is an orphan: a root marked so,
// its state saying why it cannot be restored. Names are escaped as in the table (set_listing.hpp).

#include "job/set_listing.hpp"

#include <string>
#include <vector>

namespace virtsnap::job {

// rows as set_rows makes them of find_sets' sets (by domain, oldest first):
// per domain its name, then a header and one line per set. Nothing for no
// sets.
std::string render_set_tree(const std::vector<SetRow>& rows);

} // namespace virtsnap::job
