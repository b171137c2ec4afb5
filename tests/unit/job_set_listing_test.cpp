// virtsnap-list's output is a contract (virtsnap-list(1)) over names that
// come from outside: directory names and manifests. A name must not fake a
// row or talk to the terminal, JSON must always parse, and sizes that
// cannot add up mark the set damaged instead of wrapping.

#include "chain_sets.hpp"
#include "job/set_listing.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using namespace virtsnap;
using nlohmann::json;

namespace {

xml::Manifest manifest() {
    xml::Manifest m;
    m.domain_name = "web";
    m.domain_uuid = "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11";
    m.snapshot_id = "20261122T031500Z-1a2b3c";
    m.snapshot_time = "2026-11-22T03:15:00Z";
    m.quiesced = true;
    m.freeze_ms = 42;
    for (const char* target : {"vda", "vdb"}) {
        xml::ManifestDisk disk;
        disk.target = target;
        disk.source_type = "file";
        disk.format = "qcow2";
        disk.virtual_size = 1ULL << 30;
        xml::DiskBackup backup;
        backup.format = "qcow2";
        backup.files.push_back({std::string(target) + ".qcow2", "", 3ULL << 20, 2ULL << 20, "", {}, ""});
        disk.backup = backup;
        disk.verifications.push_back({"checksums", "ok", "all chunks match"});
        m.disks.push_back(disk);
    }
    return m;
}

store::BackupSet complete_set(const std::string& domain) {
    store::BackupSet set;
    set.domain = domain;
    set.id = "20261122T031500Z-1a2b3c";
    set.path = "/backup/" + domain + "/" + set.id;
    set.complete = true;
    set.manifest = manifest();
    return set;
}

store::BackupSet incomplete_set(const std::string& domain) {
    store::BackupSet set;
    set.domain = domain;
    set.id = "20261123T031500Z-4d5e6f";
    set.path = "/backup/" + domain + "/" + set.id;
    return set;
}

store::BackupSet damaged_set(const std::string& domain, const std::string& problem) {
    store::BackupSet set = incomplete_set(domain);
    set.id = "20261124T031500Z-7a8b9c";
    set.complete = true;
    set.problem = problem;
    return set;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
        lines.push_back(text.substr(start, end - start));
    CHECK(start == text.size()); // ends with a newline
    return lines;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("listing: a table row per set, complete, incomplete and damaged") {
    const std::string table =
        job::render_set_table({complete_set("web"), incomplete_set("web"),
                               damaged_set("web", "its manifest is not valid XML at line 3")});
    const std::vector<std::string> lines = lines_of(table);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].rfind("DOMAIN", 0) == 0);
    CHECK(contains(lines[1], "2026-11-22T03:15:00Z"));
    CHECK(contains(lines[1], "vda,vdb"));
    CHECK(contains(lines[1], "42 ms"));
    CHECK(contains(lines[1], "complete"));
    CHECK(contains(lines[2], "incomplete"));
    CHECK(contains(lines[3], "damaged: its manifest is not valid XML at line 3"));
    // Columns line up: every row's STATE starts where the header's does.
    const size_t state = lines[0].find("STATE");
    for (size_t i = 1; i < lines.size(); ++i)
        CHECK(lines[i].find_first_not_of(' ', state - 2) == state);
}

TEST_CASE("listing: a newline or an escape in a name cannot fake a row or reach the terminal") {
    const std::string name = "web\n20261122T031500Z-fake  -  complete\x1b[2J";
    const std::string table =
        job::render_set_table({complete_set(name), damaged_set(name, "bad\nline\x1b]0;x\x07")});
    const std::vector<std::string> lines = lines_of(table);
    CHECK(lines.size() == 3); // the header and one line per set
    CHECK_FALSE(contains(table, "\x1b"));
    CHECK_FALSE(contains(table, "\x07"));
    CHECK(contains(lines[1], "web\\n20261122T031500Z-fake  -  complete\\x1b[2J"));
    CHECK(contains(lines[2], "damaged: bad\\nline\\x1b]0;x\\x07"));

    // JSON keeps the name exactly (JSON escapes it) and parses.
    const json list = json::parse(job::render_set_json({complete_set(name)}));
    CHECK(list.at(0).at("domain") == name);
    CHECK_FALSE(list.at(0).contains("domain_hex"));
}

TEST_CASE("listing: a name that is not UTF-8 gets U+FFFD in JSON and its bytes beside it") {
    const std::string name = "web\xff"
                             "db";
    const std::string text = job::render_set_json({complete_set(name)});
    const json list = json::parse(text);
    CHECK(list.at(0).at("domain") == "web\xef\xbf\xbd"
                                     "db");
    CHECK(list.at(0).at("domain_hex") == "776562ff6462");
    CHECK(list.at(0).at("path") == "/backup/web\xef\xbf\xbd"
                                   "db/20261122T031500Z-1a2b3c");
    CHECK(list.at(0).contains("path_hex"));
    // The table writes the byte as \xff, never raw.
    const std::string table = job::render_set_table({complete_set(name)});
    CHECK(contains(table, "web\\xffdb"));
    CHECK_FALSE(contains(table, "\xff"));
}

TEST_CASE("listing: JSON members of complete, incomplete and damaged sets") {
    const json list = json::parse(job::render_set_json(
        {complete_set("web"), incomplete_set("web"), damaged_set("web", "its manifest is truncated")}));
    REQUIRE(list.size() == 3);
    const json& complete = list.at(0);
    CHECK(complete.at("state") == "complete");
    CHECK(complete.at("set") == "20261122T031500Z-1a2b3c");
    CHECK(complete.at("disks") == json::array({"vda", "vdb"}));
    CHECK(complete.at("allocated_bytes") == 6ULL << 20);
    CHECK(complete.at("data_bytes") == 4ULL << 20);
    CHECK(complete.at("quiesced") == true);
    CHECK(complete.at("freeze_ms") == 42);
    CHECK(complete.at("verified") == "ok");
    CHECK(list.at(1).at("state") == "incomplete");
    CHECK_FALSE(list.at(1).contains("allocated_bytes"));
    CHECK(list.at(2).at("state") == "damaged");
    CHECK(list.at(2).at("problem") == "its manifest is truncated");
    // An empty listing is an empty array.
    CHECK(json::parse(job::render_set_json({})) == json::array());
}

TEST_CASE("listing: sizes whose sum passes 2^64 mark the set damaged rather than wrap") {
    for (const bool allocated : {true, false}) {
        CAPTURE(allocated);
        store::BackupSet set = complete_set("web");
        for (xml::ManifestDisk& disk : set.manifest->disks) {
            xml::BackupFile& file = disk.backup->files.at(0);
            (allocated ? file.allocated : file.data_bytes) = (1ULL << 63) + 1;
        }
        const std::string table = job::render_set_table({set});
        CHECK(contains(table, "damaged: its manifest records sizes that cannot add up"));
        CHECK_FALSE(contains(table, "complete"));
        const json list = json::parse(job::render_set_json({set}));
        CHECK(list.at(0).at("state") == "damaged");
        CHECK(list.at(0).at("problem") == "its manifest records sizes that cannot add up");
        CHECK_FALSE(list.at(0).contains("allocated_bytes"));
    }
    // Up to 2^64 - 1 they add up.
    store::BackupSet set = complete_set("web");
    set.manifest->disks.at(0).backup->files.at(0).allocated = UINT64_MAX - (3ULL << 20);
    const json list = json::parse(job::render_set_json({set}));
    CHECK(list.at(0).at("state") == "complete");
    CHECK(list.at(0).at("allocated_bytes") == UINT64_MAX);
}

TEST_CASE("listing: each set's level and parent, an old set's level as copy") {
    store::BackupSet old_set = complete_set("web");
    store::BackupSet full = complete_set("web");
    full.id = "20261123T031500Z-1a2b3c";
    full.manifest->snapshot_id = full.id;
    full.manifest->level = "full";
    full.manifest->level_reason = "the chain is 7 days old";
    store::BackupSet inc = complete_set("web");
    inc.id = "20261124T031500Z-1a2b3c";
    inc.manifest->snapshot_id = inc.id;
    inc.manifest->level = "inc";
    inc.manifest->parent = full.id;
    const std::vector<store::BackupSet> sets{old_set, full, inc, incomplete_set("web")};

    const std::vector<std::string> lines = lines_of(job::render_set_table(sets));
    REQUIRE(lines.size() == 5);
    const size_t level = lines[0].find("LEVEL");
    const size_t parent = lines[0].find("PARENT");
    REQUIRE(level != std::string::npos);
    REQUIRE(parent != std::string::npos);
    CHECK(lines[0].find("STATE") < level);
    CHECK(lines[1].substr(level, 5) == "copy ");
    CHECK(lines[1].substr(parent) == "-");
    CHECK(lines[2].substr(level, 5) == "full ");
    CHECK(lines[3].substr(level, 4) == "inc ");
    CHECK(lines[3].substr(parent) == full.id);
    CHECK(lines[4].substr(level, 2) == "- ");
    CHECK(contains(lines[3], "  inc  ")); // TYPE: an incremental set does not hold whole disks

    const json list = json::parse(job::render_set_json(sets));
    CHECK(list.at(0).at("level") == "copy");
    CHECK(list.at(0).at("parent").is_null());
    CHECK(list.at(0).at("level_reason").is_null());
    CHECK(list.at(0).at("type") == "full");
    CHECK(list.at(1).at("level") == "full");
    CHECK(list.at(1).at("level_reason") == "the chain is 7 days old");
    CHECK(list.at(2).at("level") == "inc");
    CHECK(list.at(2).at("type") == "inc");
    CHECK(list.at(2).at("parent") == full.id);
    // Its parent is not on disk (nor is the set): no restore point, but
    // what its manifest says is listed.
    CHECK(list.at(2).at("state") == "broken-chain");
    CHECK_FALSE(list.at(3).contains("level"));
}

namespace {

// A full set, an incremental on it and another on that, on disk; then the
// middle set made unusable as `how` says.
struct BrokenChain {
    test::TempDir dir;
    test::ChainSets sets{dir};
    std::string full = test::chain_set_id(1), inc1 = test::chain_set_id(2), inc2 = test::chain_set_id(3);

    explicit BrokenChain(const std::string& how) {
        sets.add_full(full, {"write -P 0x61 0 64k"});
        sets.add_inc(inc1, full, {"write -P 0x62 64k 4k"});
        sets.add_inc(inc2, inc1, {"write -P 0x63 1M 4k"});
        const std::filesystem::path middle = sets.set_dir(inc1);
        if (how == "missing") {
            std::filesystem::remove_all(middle);
        } else if (how == "incomplete") {
            std::filesystem::remove(middle / "complete");
        } else if (how == "a link") {
            std::filesystem::rename(middle, dir / "elsewhere");
            std::filesystem::create_directory_symlink(dir / "elsewhere", middle);
        } else if (how == "damaged") {
            test::write_file(middle / "manifest.xml", "<virtsnap-manifest");
        } else if (how == "another domain's") {
            xml::Manifest other = sets.add_full(test::chain_set_id(4), {});
            std::filesystem::remove_all(middle);
            std::filesystem::rename(sets.set_dir(test::chain_set_id(4)), middle);
            other.snapshot_id = inc1;
            other.domain_uuid = "00000000-8d0a-4b1e-9a59-2d6d7e6a1c11";
            sets.write_manifest(inc1, other);
        }
    }

    std::vector<store::BackupSet> found() const { return job::find_sets(dir.path().string(), "web"); }
};

} // namespace

TEST_CASE("listing: an incremental set whose parent set is unusable is a broken chain, not complete") {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"missing", "is missing"},
        {"incomplete", "is incomplete"},
        {"a link", "is a symbolic link"},
        {"damaged", "is damaged"},
        {"another domain's", "is a backup of another domain"}};
    for (const auto& [how, why] : cases) {
        CAPTURE(how);
        const BrokenChain t(how);
        const json list = json::parse(job::render_set_json(t.found()));
        const json& top = list.back();
        CHECK(top.at("set") == t.inc2);
        CHECK(top.at("state") == "broken-chain");
        CHECK(contains(top.at("problem").get<std::string>(), "the parent set " + t.inc1));
        CHECK(contains(top.at("problem").get<std::string>(), why));
        // What its manifest says is still there: the set itself is sound.
        CHECK(top.at("level") == "inc");
        CHECK(top.at("parent") == t.inc1);
        CHECK(list.front().at("state") == "complete"); // the full set

        const std::string table = job::render_set_table(t.found());
        const std::vector<std::string> lines = lines_of(table);
        CHECK(contains(lines.back(), "broken-chain: the parent set " + t.inc1));
        CHECK_FALSE(contains(lines.back(), "  complete"));
    }
}

TEST_CASE("listing: every set above a broken link is broken; a sound chain is complete") {
    {
        const BrokenChain t("none");
        const json list = json::parse(job::render_set_json(t.found()));
        REQUIRE(list.size() == 3);
        for (const json& set : list)
            CHECK(set.at("state") == "complete");
    }
    // The full set missing: both incremental sets name it.
    const BrokenChain t("none");
    std::filesystem::remove_all(t.sets.set_dir(t.full));
    const json list = json::parse(job::render_set_json(t.found()));
    REQUIRE(list.size() == 2);
    for (const json& set : list) {
        CHECK(set.at("state") == "broken-chain");
        CHECK(contains(set.at("problem").get<std::string>(), "the parent set " + t.full));
    }
}
