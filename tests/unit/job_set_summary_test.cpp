// virtsnap-list --summary is what a monitoring check runs: its verdict (and
// exit status) must follow the sets, never a good-looking default. Ages come
// from the set ids (UTC), measured against the time the caller passes.

#include "chain_sets.hpp"
#include "job/set_listing.hpp"
#include "job/set_summary.hpp"
#include "store/set_layout.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

using namespace virtsnap;
using std::chrono::seconds;

namespace {

// 2026-11-30 12:00:00 UTC
constexpr std::time_t noon = 1796040000;

store::BackupSet set_of(const std::string& domain, const std::string& id, bool complete,
                        const std::string& check = "ok") {
    store::BackupSet set;
    set.domain = domain;
    set.id = id;
    set.path = "/backup/" + domain + "/" + id;
    set.complete = complete;
    if (!complete)
        return set;
    xml::Manifest m;
    m.domain_name = domain;
    m.snapshot_id = id;
    xml::ManifestDisk disk;
    disk.target = "vda";
    xml::DiskBackup backup;
    backup.format = "qcow2";
    backup.files.push_back({"vda.qcow2", "", 3ULL << 20, 2ULL << 20, "", {}, ""});
    disk.backup = backup;
    disk.verifications.push_back({"source", check, ""});
    m.disks.push_back(disk);
    set.manifest = m;
    return set;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

store::BackupSet damaged(const std::string& domain, const std::string& id) {
    store::BackupSet set = set_of(domain, id, false);
    set.complete = true;
    set.problem = "manifest.xml is missing";
    return set;
}

} // namespace

TEST_CASE("set ids: their UTC time, and none for an id whose time is not real") {
    CHECK(store::set_id_time("20261130-120000-000-abcd") == noon);
    CHECK(store::set_id_time("20261130-115959-999-0000") == noon - 1);
    CHECK_FALSE(store::set_id_time("20261330-120000-000-abcd")); // month 13
    CHECK_FALSE(store::set_id_time("20261131-120000-000-abcd")); // 31 November
    CHECK_FALSE(store::set_id_time("20261130-126000-000-abcd")); // minute 60
    CHECK_FALSE(store::set_id_time("20261130T120000Z-1a2b3c"));
    CHECK_FALSE(store::set_id_time(""));
}

TEST_CASE("summary: the newest complete set per domain, its age, the count and the size") {
    const std::vector<store::BackupSet> sets{
        set_of("db", "20261129-120000-000-aaaa", true), set_of("db", "20261130-110000-000-bbbb", true),
        set_of("db", "20261130-115000-000-cccc", false), set_of("web", "20261130-113000-000-dddd", true)};
    const std::vector<job::DomainSummary> domains = job::summarize_sets(sets, noon, seconds(7200));
    REQUIRE(domains.size() == 2);
    CHECK(domains[0].domain == "db");
    CHECK(domains[0].newest == "20261130-110000-000-bbbb"); // the incomplete one is newer, not complete
    CHECK(domains[0].age == 3600);
    CHECK(domains[0].complete_sets == 2);
    CHECK(domains[0].allocated == 6ULL << 20);
    CHECK(domains[0].verdict == job::Verdict::ok);
    CHECK(domains[1].age == 1800);
    CHECK(job::overall_verdict(domains) == job::Verdict::ok);
    const std::string table = job::render_summary_table(domains, seconds(7200));
    CHECK(table.rfind("VIRTSNAP OK: 2 domain(s), each with a complete backup set younger than 2h 00m\n", 0) ==
          0);
    CHECK(table.find("db      20261130-110000-000-bbbb  1h 00m   2     6.0 MiB  ok\n") != std::string::npos);
}

TEST_CASE("summary: a stale domain or one without a complete set is critical, and named") {
    const std::vector<store::BackupSet> sets{set_of("db", "20261128-120000-000-aaaa", true),
                                             set_of("mail", "20261130-113000-000-bbbb", false),
                                             set_of("web", "20261130-113000-000-cccc", true)};
    const std::vector<job::DomainSummary> domains = job::summarize_sets(sets, noon, seconds(86400));
    REQUIRE(domains.size() == 3);
    CHECK(domains[0].verdict == job::Verdict::critical);
    CHECK(domains[0].reason == "the newest complete set is 2d 00h old, more than --max-age 1d 00h");
    CHECK(domains[1].verdict == job::Verdict::critical);
    CHECK(domains[1].reason == "no complete backup set");
    CHECK(domains[2].verdict == job::Verdict::ok);
    CHECK(job::overall_verdict(domains) == job::Verdict::critical);
    const std::string table = job::render_summary_table(domains, seconds(86400));
    CHECK(table.rfind("VIRTSNAP CRITICAL: db: the newest complete set is 2d 00h old, more than --max-age 1d "
                      "00h; mail: no complete backup set\n",
                      0) == 0);

    // Without --max-age, age alone is no verdict.
    CHECK(job::summarize_sets(sets, noon, std::nullopt)[0].verdict == job::Verdict::ok);
}

TEST_CASE("summary: a damaged set or a failed check is a warning; critical outranks it") {
    const std::vector<store::BackupSet> sets{damaged("db", "20261130-100000-000-aaaa"),
                                             set_of("db", "20261130-110000-000-bbbb", true),
                                             set_of("web", "20261130-110000-000-cccc", true, "mismatch")};
    std::vector<job::DomainSummary> domains = job::summarize_sets(sets, noon, std::nullopt);
    CHECK(domains[0].verdict == job::Verdict::warning);
    CHECK(domains[0].reason == "1 damaged set(s)");
    CHECK(domains[1].verdict == job::Verdict::warning);
    CHECK(domains[1].reason == "the newest complete set failed a check");
    CHECK(job::overall_verdict(domains) == job::Verdict::warning);

    domains = job::summarize_sets(sets, noon, seconds(60));
    CHECK(domains[0].verdict == job::Verdict::critical);
    CHECK(domains[0].reason.find("damaged") == std::string::npos);
}

TEST_CASE("summary: no domain at all is critical; a set from the future is age 0") {
    CHECK(job::overall_verdict({}) == job::Verdict::critical);
    CHECK(job::render_summary_table({}, std::nullopt).rfind("VIRTSNAP CRITICAL: no backup sets\n", 0) == 0);
    const auto domains =
        job::summarize_sets({set_of("db", "20261201-000000-000-aaaa", true)}, noon, seconds(60));
    CHECK(domains[0].age == 0);
    CHECK(domains[0].verdict == job::Verdict::ok);
}

TEST_CASE("summary JSON: the verdict, and each domain's fields, null where there is nothing") {
    const std::vector<store::BackupSet> sets{set_of("db", "20261130-110000-000-aaaa", true),
                                             set_of("mail\xff", "20261130-110000-000-bbbb", false)};
    const nlohmann::json out = nlohmann::json::parse(
        job::render_summary_json(job::summarize_sets(sets, noon, seconds(600)), seconds(600)));
    CHECK(out["status"] == "critical");
    CHECK(out["max_age_seconds"] == 600);
    REQUIRE(out["domains"].size() == 2);
    CHECK(out["domains"][0]["newest_set"] == "20261130-110000-000-aaaa");
    CHECK(out["domains"][0]["age_seconds"] == 3600);
    CHECK(out["domains"][0]["complete_sets"] == 1);
    CHECK(out["domains"][0]["allocated_bytes"] == 3ULL << 20);
    CHECK(out["domains"][0]["status"] == "critical");
    CHECK(out["domains"][1]["newest_set"].is_null());
    CHECK(out["domains"][1]["age_seconds"].is_null());
    CHECK(out["domains"][1]["domain_hex"] == "6d61696cff");
}

TEST_CASE("ages: the two largest units") {
    CHECK(job::format_age(0) == "0s");
    CHECK(job::format_age(59) == "59s");
    CHECK(job::format_age(61) == "1m 01s");
    CHECK(job::format_age(3600) == "1h 00m");
    CHECK(job::format_age(86399) == "23h 59m");
    CHECK(job::format_age(90000) == "1d 01h");
}

TEST_CASE("summary: an incremental set on a broken chain is never the newest restore point") {
    for (const std::string how : {"sound", "missing", "incomplete", "a link"}) {
        CAPTURE(how);
        test::TempDir dir;
        test::ChainSets sets(dir);
        const std::string full = test::chain_set_id(1), inc1 = test::chain_set_id(2),
                          inc2 = test::chain_set_id(3);
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
        }
        const std::time_t now = *store::set_id_time(inc2) + 60;
        const std::vector<job::DomainSummary> domains =
            job::summarize_sets(job::find_sets(dir.path().string(), "web"), now, std::nullopt);
        REQUIRE(domains.size() == 1);
        if (how == "sound") {
            CHECK(domains[0].newest == inc2);
            CHECK(domains[0].complete_sets == 3);
            CHECK(domains[0].verdict == job::Verdict::ok);
            continue;
        }
        // Only the full set is a restore point.
        CHECK(domains[0].newest == full);
        CHECK(domains[0].complete_sets == 1);
        CHECK(domains[0].verdict == job::Verdict::warning);
        CHECK(contains(domains[0].reason, "1 set(s) with a broken chain (not restorable)"));
        const std::string table = job::render_summary_table(domains, std::nullopt);
        CHECK(table.rfind("VIRTSNAP WARNING: web: ", 0) == 0);
        CHECK(contains(table, "web     " + full));
    }
}
