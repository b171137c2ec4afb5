// The instant-restore record (STATE_DIR/NAME.instant): read back whole,
// every field checked as hostile input (a record must not steer a chown to
// a file outside its sets), and the sets it names kept by retention.

#include "job/retention.hpp"
#include "store/backup_set.hpp"
#include "store/instant_record.hpp"
#include "store/set_layout.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"
#include "xml/manifest.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

const std::string f1 = "20261101-000000-000-0001", i1 = "20261102-000000-000-0001",
                  i2 = "20261103-000000-000-0001", f2 = "20261104-000000-000-0001";

store::InstantRecord sample(const std::string& domain_dir = "/backup/web") {
    store::InstantRecord record;
    record.domain_name = "web & <copy>";
    record.output_dir = "/restore/web";
    record.set_dirs = {domain_dir + "/" + i1, domain_dir + "/" + f1};
    record.disks = {{"vda", "/restore/web/vda.qcow2", domain_dir + "/" + i1 + "/vda.qcow2", "qcow2"},
                    {"vdb", "/restore/web/vdb.qcow2", domain_dir + "/" + i1 + "/vdb.qcow2", "qcow2"}};
    record.owners = {{domain_dir + "/" + i1 + "/vda.qcow2", 0, 0, 0600},
                     {domain_dir + "/" + f1 + "/vda.qcow2", 64055, 107, 0640}};
    return record;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

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

TEST_CASE("an instant-restore record is read back whole and kept privately") {
    test::TempDir dir;
    const std::string state = (dir / "state").string();
    const store::InstantRecord record = sample();
    store::save_instant_record(state, record);
    struct stat st {};
    REQUIRE(::stat(store::instant_record_path(state, record.domain_name).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    const std::optional<store::InstantRecord> back = store::load_instant_record(state, record.domain_name);
    REQUIRE(back);
    CHECK(back->domain_name == record.domain_name);
    CHECK(back->output_dir == record.output_dir);
    CHECK(back->set_dirs == record.set_dirs);
    REQUIRE(back->disks.size() == 2);
    CHECK(back->disks[1].image == "/restore/web/vdb.qcow2");
    CHECK(back->disks[0].backing == record.disks[0].backing);
    REQUIRE(back->owners.size() == 2);
    CHECK(back->owners[1].uid == 64055);
    CHECK(back->owners[1].gid == 107);
    CHECK(back->owners[1].mode == 0640);
    CHECK_FALSE(store::load_instant_record(state, "other"));
    store::remove_instant_record(state, record.domain_name);
    CHECK_FALSE(store::load_instant_record(state, record.domain_name));
}

TEST_CASE("a hostile instant-restore record is refused, naming the field") {
    const std::string good = store::to_xml(sample());
    CHECK_NOTHROW(store::parse_instant_record(good, "r"));
    const std::vector<std::pair<std::string, std::string>> bad{
        {"version=\"1\"", "version=\"2\""},
        {"dir=\"/restore/web\"", "dir=\"restore/web\""},
        {"dir=\"/backup/web/" + i1 + "\"", "dir=\"/backup/web/../" + i1 + "\""},
        {"dir=\"/backup/web/" + i1 + "\"", "dir=\"/backup/web/notes\""},
        {"image=\"/restore/web/vda.qcow2\"", "image=\"/etc/vda.qcow2\""},
        {"target=\"vdb\"", "target=\"vda\""},
        {"backing-format=\"qcow2\"", "backing-format=\"vmdk\""},
        // A chown steered outside the sets.
        {"path=\"/backup/web/" + i1 + "/vda.qcow2\"", "path=\"/etc/shadow\""},
        {"path=\"/backup/web/" + i1 + "/vda.qcow2\"",
         "path=\"/backup/web/" + i1 + "/x/../../../etc/shadow\""},
        {"uid=\"64055\"", "uid=\"-1\""},
        {"mode=\"416\"", "mode=\"99999\""},
        {"name=\"web &amp; &lt;copy&gt;\"", "name=\"../web\""},
    };
    for (const auto& [from, to] : bad) {
        CAPTURE(to);
        CHECK_THROWS_AS(store::parse_instant_record(replaced(good, from, to), "r"), util::InputError);
    }
    CHECK_THROWS_AS(store::parse_instant_record("<!DOCTYPE x [<!ENTITY a 'b'>]><virtsnap-instant/>", "r"),
                    util::InputError);
    CHECK_THROWS_AS(store::parse_instant_record("<other version='1'/>", "r"), util::InputError);
}

TEST_CASE("a record cannot be named by a path") {
    CHECK(store::is_recordable_domain_name("web-copy 2"));
    CHECK_FALSE(store::is_recordable_domain_name(""));
    CHECK_FALSE(store::is_recordable_domain_name("../etc/passwd"));
    CHECK_FALSE(store::is_recordable_domain_name(".hidden"));
    CHECK_FALSE(store::is_recordable_domain_name("a\nb"));
    CHECK_THROWS_AS(store::instant_record_path("/state", "a/b"), util::UsageError);
}

TEST_CASE("retention keeps the sets an instant-restore record names, and the sets below them") {
    test::TempDir dir;
    const fs::path domain_dir = dir / "web";
    add_set(domain_dir, f1, "full");
    add_set(domain_dir, i1, "inc", f1);
    add_set(domain_dir, i2, "inc", i1);
    add_set(domain_dir, f2, "full");
    const std::string state = (dir / "state").string();
    store::InstantRecord record = sample(domain_dir.string());
    store::save_instant_record(state, record);
    // A record of another domain directory pins nothing here; one that does
    // not parse is named in a warning.
    store::InstantRecord other = sample("/elsewhere/web");
    other.domain_name = "other";
    store::save_instant_record(state, other);
    test::write_file(fs::path(state) / "broken.instant", "<virtsnap-instant version='1'/>");

    const store::InstantPins pins = store::instant_pins(state, domain_dir.string());
    CHECK(pins.set_ids == std::vector<std::string>{i1, f1});
    REQUIRE(pins.reasons.size() == 2);
    CHECK(pins.reasons[0].find("--finish web & <copy>") != std::string::npos);
    REQUIRE(pins.warnings.size() == 1);
    CHECK(pins.warnings[0].find("broken.instant") != std::string::npos);

    const util::Log quiet("test", util::Verbosity::quiet);
    CHECK(job::apply_retention(domain_dir.string(), 1, f2, quiet, pins.set_ids) == 1); // i2 only
    CHECK(store::has_marker((domain_dir / i1).string()));
    CHECK(store::has_marker((domain_dir / f1).string()));
    CHECK_FALSE(fs::exists(domain_dir / i2));

    store::remove_instant_record(state, record.domain_name);
    CHECK(store::instant_pins(state, domain_dir.string()).set_ids.empty());
    CHECK(job::apply_retention(domain_dir.string(), 1, f2, quiet,
                               store::instant_pins(state, domain_dir.string()).set_ids) == 2);
}

TEST_CASE(
    "two instant restores of one set: the second records what the first found, the last to end restores it") {
    store::InstantRecord first = sample();
    store::InstantRecord second = sample();
    second.domain_name = "web-2";
    // The second found the set's vda handed to QEMU's user by the first.
    const std::string vda = second.owners.front().path;
    second.owners.front() = {vda, 64055, 107, 0600};
    const std::vector<store::InstantRecord> both{first, second};

    const std::optional<store::FileOwner> found = store::owner_elsewhere({first}, "web-2", vda);
    REQUIRE(found);
    CHECK(found->uid == 0);
    CHECK(found->mode == 0600);
    CHECK_FALSE(store::owner_elsewhere({first}, first.domain_name, vda)); // its own record does not count
    CHECK_FALSE(store::owner_elsewhere({first}, "web-2", "/backup/web/other/vda.qcow2"));

    // While both run, neither gives back a shared file; a file only one
    // record lists is its own to give back.
    CHECK(store::owners_to_restore(both, first).empty());
    second.owners.push_back({"/backup/web/" + f2 + "/vda.qcow2", 0, 0, 0600});
    const std::vector<store::FileOwner> own = store::owners_to_restore({first, second}, second);
    REQUIRE(own.size() == 1);
    CHECK(own.front().path == "/backup/web/" + f2 + "/vda.qcow2");
    // The last to end gives back everything it recorded.
    CHECK(store::owners_to_restore({second}, second).size() == second.owners.size());
}
