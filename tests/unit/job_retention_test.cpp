// Retention on a domain directory: the sets it removes go newest first, and
// a set it cannot remove keeps the sets it depends on, so no set is ever
// left without its parent.

#include "job/retention.hpp"
#include "store/backup_set.hpp"
#include "store/set_layout.hpp"
#include "store/set_pin.hpp"
#include "temp_dir.hpp"
#include "xml/manifest.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

const util::Log quiet("test", util::Verbosity::quiet);

// A complete set without disks: only its level and parent matter here.
void add_set(const fs::path& domain_dir, const std::string& id, const std::string& level,
             const std::string& parent = "") {
    xml::Manifest m;
    m.domain_name = "web";
    m.domain_uuid = "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11";
    m.snapshot_id = id;
    m.snapshot_time = "2026-11-01T00:00:00Z";
    m.offline = true;
    m.level = level;
    m.parent = parent;
    fs::create_directories(domain_dir / id);
    test::write_file(domain_dir / id / store::set_manifest_file, xml::to_xml(m));
    store::mark_complete((domain_dir / id).string(), id);
}

} // namespace

TEST_CASE("retention removes the newest sets first, and a set it cannot remove keeps its parents") {
    const std::string f1 = "20261101-000000-000-0001", i1 = "20261102-000000-000-0001",
                      i2 = "20261103-000000-000-0001", f2 = "20261104-000000-000-0001";
    test::TempDir dir;
    const fs::path domain_dir = dir / "web";
    add_set(domain_dir, f1, "full");
    add_set(domain_dir, i1, "inc", f1);
    add_set(domain_dir, i2, "inc", i1);
    add_set(domain_dir, f2, "full");
    // i2 holds a file virtsnap never writes: it is not removed, so neither
    // are i1 and f1, which it depends on.
    test::write_file(domain_dir / i2 / "notes.txt", "mine");
    CHECK(job::apply_retention(domain_dir.string(), 1, f2, quiet) == 0);
    for (const std::string& id : {f1, i1, i2, f2})
        CHECK(store::has_marker((domain_dir / id).string()));

    fs::remove(domain_dir / i2 / "notes.txt");
    CHECK(job::apply_retention(domain_dir.string(), 1, f2, quiet) == 3);
    CHECK(store::list_domain_sets(domain_dir.string()).size() == 1);
}

TEST_CASE("retention keeps a set a reader pins, and the sets it depends on, until the pin ends") {
    const std::string f1 = "20261101-000000-000-0001", i1 = "20261102-000000-000-0001",
                      f2 = "20261104-000000-000-0001";
    test::TempDir dir;
    const fs::path domain_dir = dir / "web";
    add_set(domain_dir, f1, "full");
    add_set(domain_dir, i1, "inc", f1);
    add_set(domain_dir, f2, "full");
    {
        // virtsnap-mount of i1 pins only i1 here: f1 stays because i1 does.
        const store::SetPin mounted({(domain_dir / i1).string()});
        CHECK(job::apply_retention(domain_dir.string(), 1, f2, quiet) == 0);
        for (const std::string& id : {f1, i1, f2})
            CHECK(store::has_marker((domain_dir / id).string()));
    }
    CHECK(job::apply_retention(domain_dir.string(), 1, f2, quiet) == 2);
    CHECK(store::list_domain_sets(domain_dir.string()).size() == 1);
}
