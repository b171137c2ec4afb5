// virtsnap-list --tree: each full set with the incremental sets that depend
// on it below it, branches and orphans included, names escaped; the chains
// as they are on disk.

#include "chain_sets.hpp"
#include "job/set_tree.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using namespace virtsnap;

namespace {

std::string id(int n) {
    return test::chain_set_id(n);
}

job::SetRow row(const std::string& domain, int n, const std::string& level, int parent = -1,
                const std::string& state = "complete", const std::string& problem = "") {
    job::SetRow r;
    r.domain = domain;
    r.id = id(n);
    r.state = state;
    r.problem = problem;
    if (state != "complete" && state != "broken-chain")
        return r;
    r.time = "2026-11-01T00:00:0" + std::to_string(n) + "Z";
    r.level = level;
    r.type = level == "inc" ? "inc" : "full";
    r.parent = parent >= 0 ? id(parent) : "";
    r.allocated = level == "inc" ? 64 << 10 : 4 << 20;
    r.verified = "ok";
    return r;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("tree: each full set with its chain below it, branches by their parent, orphans marked") {
    const std::vector<job::SetRow> rows{
        row("db", 1, "full"),
        row("web", 1, "full"),
        row("web", 2, "inc", 1),
        row("web", 3, "inc", 2),
        row("web", 4, "copy"),
        row("web", 5, "inc", 2), // a second child of 2: a branch, named by its parent
        row("web", 6, "inc", 0, "broken-chain", "the parent set " + id(0) + " of backup set 'x' is missing"),
        row("web", 7, "inc", 6, "broken-chain", "the parent set " + id(0) + " of backup set 'y' is missing"),
        row("web", 8, "", -1, "incomplete"),
        row("web", 9, "full"),
    };
    const std::string expected =
        "db\n"
        "  SET                       LEVEL  PARENT  TIME                  SIZE     VERIFIED  STATE\n"
        "  20261101-000000-000-0001  full   -       2026-11-01T00:00:01Z  4.0 MiB  ok        complete\n"
        "\n"
        "web\n"
        "  SET                         LEVEL  PARENT                             TIME                  SIZE  "
        "   "
        "VERIFIED  STATE\n"
        "  20261101-000000-000-0001    full   -                                  2026-11-01T00:00:01Z  4.0 "
        "MiB  "
        "ok        complete\n"
        "    20261101-000000-000-0002  inc    20261101-000000-000-0001           2026-11-01T00:00:02Z  64 "
        "KiB   "
        "ok        complete\n"
        "    20261101-000000-000-0003  inc    20261101-000000-000-0002           2026-11-01T00:00:03Z  64 "
        "KiB   "
        "ok        complete\n"
        "    20261101-000000-000-0005  inc    20261101-000000-000-0002           2026-11-01T00:00:05Z  64 "
        "KiB   "
        "ok        complete\n"
        "  20261101-000000-000-0004    copy   -                                  2026-11-01T00:00:04Z  4.0 "
        "MiB  "
        "ok        complete\n"
        "  20261101-000000-000-0006    inc    20261101-000000-000-0000 (orphan)  2026-11-01T00:00:06Z  64 "
        "KiB   "
        "ok        broken-chain: the parent set 20261101-000000-000-0000 of backup set 'x' is missing\n"
        "    20261101-000000-000-0007  inc    20261101-000000-000-0006           2026-11-01T00:00:07Z  64 "
        "KiB   "
        "ok        broken-chain: the parent set 20261101-000000-000-0000 of backup set 'y' is missing\n"
        "  20261101-000000-000-0008    -      -                                  -                     -     "
        "   "
        "-         incomplete\n"
        "  20261101-000000-000-0009    full   -                                  2026-11-01T00:00:09Z  4.0 "
        "MiB  "
        "ok        complete\n";
    const std::string tree = job::render_set_tree(rows);
    INFO(tree);
    CHECK(tree == expected);
}

TEST_CASE("tree: a set taken at another level than asked says why after its state") {
    job::SetRow full = row("db", 1, "full");
    full.level_reason = "inc asked for, full taken: the domain has no change record";
    const std::string tree = job::render_set_tree({full});
    CHECK(contains(tree, "complete (inc asked for, full taken: the domain has no change record)\n"));
}

TEST_CASE("tree: a name from outside cannot fake a line; no sets, no output") {
    job::SetRow bad = row("web\n  20261101-000000-000-0009  full  \x1b[2J", 1, "full");
    bad.time = "2026\n";
    bad.problem = "x\ny";
    const std::string tree = job::render_set_tree({bad});
    CHECK(contains(tree, "web\\n  20261101-000000-000-0009  full  \\x1b[2J\n"));
    CHECK_FALSE(contains(tree, "\x1b"));
    CHECK(std::count(tree.begin(), tree.end(), '\n') == 3); // the domain, the header, the set
    CHECK(job::render_set_tree({}).empty());
}

TEST_CASE("tree: the chains on disk; a set whose parent is gone is an orphan, saying why") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(id(1), {"write -P 0x61 0 64k"});
    sets.add_inc(id(2), id(1), {"write -P 0x62 64k 4k"});
    sets.add_inc(id(3), id(2), {"write -P 0x63 1M 4k"});
    sets.add_inc(id(4), id(3), {"write -P 0x64 2M 4k"});
    auto lines = [&] {
        const std::string tree =
            job::render_set_tree(job::set_rows(job::find_sets(dir.path().string(), "web")));
        std::vector<std::string> out;
        std::size_t start = 0;
        for (std::size_t end; (end = tree.find('\n', start)) != std::string::npos; start = end + 1)
            out.push_back(tree.substr(start, end - start));
        return out;
    };
    std::vector<std::string> tree = lines();
    REQUIRE(tree.size() == 6);
    CHECK(tree[0] == "web");
    CHECK(tree[2].rfind("  " + id(1) + "    full", 0) == 0);
    for (int n = 2; n <= 4; ++n) {
        CHECK(tree[n + 1].rfind("    " + id(n) + "  inc    " + id(n - 1), 0) == 0);
        CHECK(tree[n + 1].substr(tree[n + 1].size() - 8) == "complete");
    }

    // Set 2 gone: 3 is an orphan root, 4 in its chain; both broken.
    std::filesystem::remove_all(sets.set_dir(id(2)));
    tree = lines();
    REQUIRE(tree.size() == 5);
    CHECK(tree[2].rfind("  " + id(1) + "    full", 0) == 0);
    CHECK(tree[3].rfind("  " + id(3) + "    inc    " + id(2) + " (orphan)", 0) == 0);
    CHECK(contains(tree[3], "broken-chain: the parent set " + id(2) + " of backup set"));
    CHECK(contains(tree[3], "is missing"));
    CHECK(tree[4].rfind("    " + id(4) + "  inc    " + id(3) + " ", 0) == 0);
    CHECK(contains(tree[4], "broken-chain: the parent set " + id(2)));
}
