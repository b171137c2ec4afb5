#include "store/backup_set.hpp"
#include "store/retention.hpp"
#include "store/set_layout.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace virtsnap;

namespace {

store::BackupSet complete(const std::string& id) {
    store::BackupSet set;
    set.id = id;
    set.complete = true;
    set.manifest = xml::Manifest{};
    return set;
}

std::vector<std::string> ids(const std::vector<const store::BackupSet*>& sets) {
    std::vector<std::string> out;
    for (const store::BackupSet* set : sets)
        out.push_back(set->id);
    return out;
}

} // namespace

TEST_CASE("--keep removes the oldest complete sets, never the one just made") {
    std::vector<store::BackupSet> sets{complete("20261101-000000-000-0001"),
                                       complete("20261102-000000-000-0001"),
                                       complete("20261103-000000-000-0001")};
    CHECK(ids(store::sets_to_remove(sets, 2)) == std::vector<std::string>{"20261101-000000-000-0001"});
    // Sets dated in the future (a clock that ran ahead) cannot push the new
    // one out: it counts as one of the kept.
    sets.push_back(complete("20991231-000000-000-0001"));
    sets.push_back(complete("20991231-000000-000-0002"));
    CHECK(ids(store::sets_to_remove(sets, 2, "20261103-000000-000-0001")) ==
          std::vector<std::string>{"20261101-000000-000-0001", "20261102-000000-000-0001",
                                   "20991231-000000-000-0001"});
}

TEST_CASE("only virtsnap's set names are sets, and only its files are ever removed") {
    CHECK(store::is_set_id("20261122-031500-042-3fa9"));
    CHECK_FALSE(store::is_set_id("notes"));
    CHECK_FALSE(store::is_set_id("20261122-031500-042-3fa"));
    CHECK_FALSE(store::is_set_id("2026112x-031500-042-3fa9"));
    CHECK(store::is_set_file_name("vda.qcow2"));
    CHECK(store::is_set_file_name("vda.1.qcow2.partial"));
    CHECK(store::is_set_file_name("complete"));
    CHECK_FALSE(store::is_set_file_name("todo.txt"));
    CHECK_FALSE(store::is_set_file_name(".qcow2"));

    test::TempDir dir;
    const std::filesystem::path set = dir / "20261122-031500-042-3fa9";
    std::filesystem::create_directories(set);
    test::write_file(set / "vda.qcow2", "x");
    test::write_file(set / "todo.txt", "mine");
    CHECK_THROWS_WITH_AS(store::remove_set(set.string()), doctest::Contains("todo.txt"), util::RefusedError);
    CHECK(test::read_file(set / "todo.txt") == "mine");
    CHECK(std::filesystem::exists(set / "vda.qcow2"));
    std::filesystem::remove(set / "todo.txt");
    store::remove_set(set.string());
    CHECK_FALSE(std::filesystem::exists(set));
}

namespace {

store::BackupSet incremental(const std::string& id, const std::string& parent) {
    store::BackupSet set = complete(id);
    set.manifest->level = "inc";
    set.manifest->parent = parent;
    return set;
}

} // namespace

TEST_CASE("--keep counts restore points but never removes a set a kept incremental set depends on") {
    const std::string f1 = "20261101-000000-000-0001", i1 = "20261102-000000-000-0001",
                      i2 = "20261103-000000-000-0001", f2 = "20261104-000000-000-0001",
                      i3 = "20261105-000000-000-0001";
    std::vector<store::BackupSet> sets{complete(f1), incremental(i1, f1), incremental(i2, i1), complete(f2),
                                       incremental(i3, f2)};
    // Keep 1: i3 and the full set it hangs on.
    CHECK(ids(store::sets_to_remove(sets, 1)) == std::vector<std::string>{f1, i1, i2});
    CHECK(ids(store::sets_to_remove(sets, 2)) == std::vector<std::string>{f1, i1, i2});
    // Keep 3: i2 is kept, and with it i1 and f1, transitively.
    CHECK(store::sets_to_remove(sets, 3).empty());
    // The set just made counts first; its chain is kept whatever the order.
    CHECK(ids(store::sets_to_remove(sets, 1, i2)) == std::vector<std::string>{f2, i3});
    // A chain whose parent is gone keeps what is left; an incomplete set
    // older than the newest complete one is removed as before.
    std::vector<store::BackupSet> broken{incremental(i1, f1), incremental(i2, i1), store::BackupSet{}};
    broken.back().id = "20261102-120000-000-0001";
    CHECK(ids(store::sets_to_remove(broken, 1)) == std::vector<std::string>{"20261102-120000-000-0001"});
}

TEST_CASE("--keep never removes the set a change record continues, nor what it hangs on") {
    const std::string f1 = "20261101-000000-000-0001", i1 = "20261102-000000-000-0001",
                      c1 = "20261103-000000-000-0001", c2 = "20261104-000000-000-0001";
    // The record continues i1; copies were taken since.
    std::vector<store::BackupSet> sets{complete(f1), incremental(i1, f1), complete(c1), complete(c2)};
    CHECK(ids(store::sets_to_remove(sets, 1)) == std::vector<std::string>{f1, i1, c1});
    CHECK(ids(store::sets_to_remove(sets, 1, "", {i1})) == std::vector<std::string>{c1});
    // A pin naming no set changes nothing.
    CHECK(ids(store::sets_to_remove(sets, 1, "", {"20261231-000000-000-0001"})) ==
          std::vector<std::string>{f1, i1, c1});
}

TEST_CASE("--synthetic-full makes the oldest kept restore point a full when it keeps sets below it") {
    const std::string f1 = "20261101-000000-000-0001", i1 = "20261102-000000-000-0001",
                      i2 = "20261103-000000-000-0001", i3 = "20261104-000000-000-0001",
                      c4 = "20261105-000000-000-0001";
    std::vector<store::BackupSet> sets{complete(f1), incremental(i1, f1), incremental(i2, i1),
                                       incremental(i3, i2)};
    // Keep 2 (i2 and the new i3): i2 keeps i1 and f1, which it becomes a full of.
    store::MergeChoice choice = store::set_to_merge(sets, 2, i3, {i3});
    REQUIRE(choice.set);
    CHECK(choice.set->id == i2);
    CHECK(choice.why_not.empty());
    // Made a full, it keeps nothing below it: plain retention removes them.
    sets[2].manifest->level = "full";
    sets[2].manifest->parent.clear();
    CHECK(ids(store::sets_to_remove(sets, 2, i3, {i3})) == std::vector<std::string>{f1, i1});
    choice = store::set_to_merge(sets, 2, i3, {i3});
    CHECK_FALSE(choice.set);
    CHECK(choice.why_not.empty());
    sets[2].manifest->level = "inc";
    sets[2].manifest->parent = i1;
    // Keeping every set, or a chain whose full is kept: nothing to do.
    choice = store::set_to_merge(sets, 4, i3, {i3});
    CHECK_FALSE(choice.set);
    CHECK(choice.why_not.empty());
    // The newest set is never merged, nor the one the change record
    // continues: the sets below stay kept, and why_not says so.
    choice = store::set_to_merge(sets, 1, i3, {i3});
    CHECK_FALSE(choice.set);
    CHECK(choice.why_not.find("set " + i3 + " keeps the sets below it, but it is the newest set") == 0);
    sets.push_back(complete(c4));
    choice = store::set_to_merge(sets, 2, c4, {i3});
    CHECK_FALSE(choice.set);
    CHECK(choice.why_not.find("set " + i3 +
                              " keeps the sets below it, but it is the set the domain's change "
                              "record continues") == 0);
    // Without the pin, i3 (not the newest now) would be the one.
    choice = store::set_to_merge(sets, 2, c4);
    REQUIRE(choice.set);
    CHECK(choice.set->id == i3);
}

TEST_CASE("--synthetic-full merges nothing that would free no set") {
    const std::string f1 = "20261101-000000-000-0001", i1 = "20261102-000000-000-0001",
                      i2 = "20261103-000000-000-0001", i3 = "20261104-000000-000-0001";
    // i2 was completed by a run whose record stayed on i1 (killed before it
    // moved on): i3 hangs on i1 too. Making i2 a full would free nothing.
    std::vector<store::BackupSet> sets{complete(f1), incremental(i1, f1), incremental(i2, i1),
                                       incremental(i3, i1)};
    const store::MergeChoice choice = store::set_to_merge(sets, 2, i3, {i3});
    CHECK_FALSE(choice.set);
    CHECK(choice.why_not.empty());
    // Sets of level copy and full are never merged.
    std::vector<store::BackupSet> fulls{complete(f1), complete(i1), complete(i2)};
    CHECK_FALSE(store::set_to_merge(fulls, 1, i2).set);
    CHECK(store::set_to_merge(fulls, 1, i2).why_not.empty());
}

TEST_CASE("--synthetic-full makes a kept diff a full when that frees the sets below it") {
    const std::string f1 = "20261101-000000-000-0001", d1 = "20261102-000000-000-0001",
                      d2 = "20261103-000000-000-0001", i3 = "20261104-000000-000-0001",
                      d4 = "20261105-000000-000-0001";
    std::vector<store::BackupSet> sets{complete(f1), incremental(d1, f1), incremental(d2, f1),
                                       incremental(i3, d2)};
    sets[1].manifest->level = "diff";
    sets[2].manifest->level = "diff";
    // d2 keeps the full below it; made a full, it frees it.
    store::MergeChoice choice = store::set_to_merge(sets, 2, i3, {i3});
    REQUIRE(choice.set);
    CHECK(choice.set->id == d2);
    // Diffs that all hang on the full: none frees it alone.
    sets.pop_back();
    sets.push_back(incremental(d4, f1));
    sets.back().manifest->level = "diff";
    choice = store::set_to_merge(sets, 2, d4, {d4});
    CHECK_FALSE(choice.set);
    CHECK(choice.why_not.empty());
}
