#include "job/set_tree.hpp"

#include "util/duration.hpp"
#include "util/error.hpp"

#include <map>

namespace virtsnap::job {

namespace {

// The rows of one domain, [begin, end) of rows, oldest first.
std::string render_domain(const std::vector<SetRow>& rows, std::size_t begin, std::size_t end) {
    // Each set's root: itself, or its parent's root when its parent is an
    // earlier row of the domain (an older set, as find_sets orders them).
    // Looking only backwards, no loop that manifests naming each other
    // could make can hang the tree.
    std::map<std::string, std::size_t> by_id;
    std::vector<std::size_t> root(end - begin);
    std::vector<bool> orphan(end - begin, false);
    for (std::size_t i = begin; i < end; ++i) {
        const SetRow& row = rows[i];
        root[i - begin] = i;
        if (has_manifest(row) && !row.parent.empty()) {
            auto parent = by_id.find(row.parent);
            if (parent != by_id.end())
                root[i - begin] = root[parent->second - begin];
            else
                orphan[i - begin] = true;
        }
        by_id.emplace(row.id, i);
    }

    std::vector<std::vector<std::string>> table{
        {"  SET", "LEVEL", "PARENT", "TIME", "SIZE", "VERIFIED", "STATE"}};
    auto add = [&](std::size_t i, bool in_chain) {
        const SetRow& r = rows[i];
        const bool known = has_manifest(r);
        std::string parent = r.parent.empty() ? "-" : util::printable(r.parent, true);
        if (orphan[i - begin])
            parent += " (orphan)";
        table.push_back({(in_chain ? "    " : "  ") + r.id, known ? r.level : "-", parent,
                         known ? util::printable(r.time, true) : "-",
                         known ? util::format_size(r.allocated) : "-", known ? r.verified : "-",
                         util::printable(!r.problem.empty()       ? r.state + ": " + r.problem
                                         : r.level_reason.empty() ? r.state
                                                                  : r.state + " (" + r.level_reason + ")")});
    };
    std::vector<std::vector<std::size_t>> below(end - begin); // each root's chain, oldest first
    for (std::size_t i = begin; i < end; ++i)
        if (root[i - begin] != i)
            below[root[i - begin] - begin].push_back(i);
    for (std::size_t r = begin; r < end; ++r) {
        if (root[r - begin] != r)
            continue;
        add(r, false);
        for (std::size_t i : below[r - begin])
            add(i, true);
    }
    return util::printable(rows[begin].domain, true) + "\n" + render_columns(table);
}

} // namespace

std::string render_set_tree(const std::vector<SetRow>& rows) {
    std::string out;
    for (std::size_t begin = 0; begin < rows.size();) {
        std::size_t end = begin + 1;
        while (end < rows.size() && rows[end].domain == rows[begin].domain)
            ++end;
        out += (out.empty() ? "" : "\n") + render_domain(rows, begin, end);
        begin = end;
    }
    return out;
}

} // namespace virtsnap::job
