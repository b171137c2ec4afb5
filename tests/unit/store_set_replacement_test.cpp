// A set replaced by one made beside it: one atomic exchange of the two
// directories, or two renames where the filesystem cannot exchange; what a
// run killed at any step leaves is put right by the next.

#include "store/backup_set.hpp"
#include "store/set_layout.hpp"
#include "store/set_replacement.hpp"
#include "temp_dir.hpp"
#include "xml/manifest.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

const std::string id = "20261101-000000-000-0001";

// A complete set without disks in dir, of level; its domain.xml says what
// it is ("old", "new").
void make_set(const fs::path& dir, const std::string& level, const std::string& content,
              bool complete = true) {
    xml::Manifest m;
    m.domain_name = "web";
    m.domain_uuid = "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11";
    m.snapshot_id = id;
    m.snapshot_time = "2026-11-01T00:00:00Z";
    m.offline = true;
    m.level = level;
    if (level == "inc")
        m.parent = "20261031-000000-000-0001";
    fs::create_directories(dir);
    test::write_file(dir / store::set_manifest_file, xml::to_xml(m));
    test::write_file(dir / store::set_domain_xml_file, content);
    if (complete)
        store::mark_complete(dir.string(), id);
}

std::string content(const fs::path& dir) {
    return test::read_file(dir / store::set_domain_xml_file);
}

struct Layout {
    test::TempDir dir;
    fs::path domain_dir = dir / "web";
    fs::path set = domain_dir / id;
    fs::path work = domain_dir / store::synthetic_work_name(id);
    fs::path aside = domain_dir / store::synthetic_aside_name(id);
};

} // namespace

TEST_CASE("the names a replacement works under are never set ids") {
    CHECK(store::synthetic_work_name(id) == ".synthetic-" + id);
    CHECK(store::synthetic_aside_name(id) == ".synthetic-" + id + ".old");
    CHECK_FALSE(store::is_set_id(store::synthetic_work_name(id)));
    CHECK_FALSE(store::is_set_id(store::synthetic_aside_name(id)));
    const std::optional<store::SyntheticName> work = store::parse_synthetic_name(".synthetic-" + id);
    REQUIRE(work);
    CHECK(work->set_id == id);
    CHECK_FALSE(work->aside);
    const std::optional<store::SyntheticName> aside =
        store::parse_synthetic_name(".synthetic-" + id + ".old");
    REQUIRE(aside);
    CHECK(aside->set_id == id);
    CHECK(aside->aside);
    for (const char* other : {".synthetic-", ".synthetic-notes", ".synthetic-../x", ".synthetic-x.old",
                              ".synthetic-20261101-000000-000-0001.new", "20261101-000000-000-0001"})
        CHECK_FALSE(store::parse_synthetic_name(other));
}

TEST_CASE("a replacement swaps the set's content in one exchange, or in two renames") {
    for (const bool exchange : {true, false}) {
        CAPTURE(exchange);
        Layout l;
        make_set(l.set, "inc", "old");
        make_set(l.work, "full", "new");
        const std::string old_dir = store::swap_in_replacement(l.domain_dir.string(), id, exchange);
        CHECK(content(l.set) == "new");
        CHECK(old_dir == (exchange ? l.work : l.aside).string());
        CHECK(content(old_dir) == "old");
        CHECK_FALSE(fs::exists(exchange ? l.aside : l.work));
        // The set is complete and reads as the new one; nothing else is a set.
        const std::vector<store::BackupSet> sets = store::list_domain_sets(l.domain_dir.string());
        REQUIRE(sets.size() == 1);
        CHECK(sets.front().manifest->level == "full");
        // What is left over is the next run's to remove.
        const store::ReplacementRepair repair = store::finish_replacements(l.domain_dir.string());
        CHECK(repair.done.size() == 1);
        CHECK(repair.left.empty());
        CHECK_FALSE(fs::exists(old_dir));
        CHECK(content(l.set) == "new");
    }
}

TEST_CASE("a replacement killed at any step is completed or undone by the next run") {
    SUBCASE("killed before the swap: the work directory goes, the set stays") {
        for (const bool complete : {true, false}) {
            Layout l;
            make_set(l.set, "inc", "old");
            make_set(l.work, "full", "new", complete);
            test::write_file(l.work / "vda.qcow2.partial", "half");
            store::finish_replacements(l.domain_dir.string());
            CHECK(content(l.set) == "old");
            CHECK_FALSE(fs::exists(l.work));
        }
    }
    SUBCASE("killed between the two renames, the new set complete: the swap is finished") {
        Layout l;
        make_set(l.aside, "inc", "old");
        make_set(l.work, "full", "new");
        const store::ReplacementRepair repair = store::finish_replacements(l.domain_dir.string());
        CHECK(content(l.set) == "new");
        CHECK(store::has_marker(l.set.string()));
        CHECK_FALSE(fs::exists(l.work));
        CHECK_FALSE(fs::exists(l.aside));
        REQUIRE(repair.done.size() == 2);
        CHECK(repair.done.front().find("finished replacing") != std::string::npos);
    }
    SUBCASE("a set name free but the work directory not a complete full of it: the old set is put back") {
        for (const std::string& level : {std::string("full"), std::string("inc")}) {
            Layout l;
            make_set(l.aside, "inc", "old");
            make_set(l.work, level, "new", level == "inc");
            store::finish_replacements(l.domain_dir.string());
            CHECK(content(l.set) == "old");
            CHECK(store::has_marker(l.set.string()));
            CHECK_FALSE(fs::exists(l.work));
            CHECK_FALSE(fs::exists(l.aside));
        }
    }
    SUBCASE("killed after the swap: the old content goes") {
        Layout l;
        make_set(l.set, "full", "new");
        make_set(l.aside, "inc", "old");
        store::finish_replacements(l.domain_dir.string());
        CHECK(content(l.set) == "new");
        CHECK_FALSE(fs::exists(l.aside));
    }
    SUBCASE("what virtsnap did not make is left alone") {
        Layout l;
        make_set(l.set, "inc", "old");
        fs::create_directories(l.domain_dir / "elsewhere");
        fs::create_directory_symlink(l.domain_dir / "elsewhere", l.work);
        make_set(l.aside, "inc", "mine");
        test::write_file(l.aside / "notes.txt", "mine");
        const store::ReplacementRepair repair = store::finish_replacements(l.domain_dir.string());
        CHECK(repair.done.empty());
        CHECK(repair.left.size() == 2);
        CHECK(fs::is_symlink(l.work));
        CHECK(test::read_file(l.aside / "notes.txt") == "mine");
        CHECK(content(l.set) == "old");
    }
}
