// The change record (STATE_DIR/UUID.tracking): read back whole, every field
// checked as hostile input, kept privately, never taken for another
// domain's; and the record a run leaves at stage keeping, whose disks come
// back to their own images once a kept overlay below is merged.

#include "store/state_record.hpp"
#include "store/tracking_record.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>

using namespace virtsnap;

namespace {

const std::string uuid = "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11";
const std::string older_id = "20261101-000000-000-0001";
const std::string set_id = "20261101-000000-000-0002";

xml::SnapshotDisk disk(const std::string& target, const std::string& frozen, const std::string& overlay) {
    xml::SnapshotDisk d;
    d.target = target;
    d.source_type = "file";
    d.format = "qcow2";
    d.frozen = frozen;
    d.overlay = overlay;
    d.virtual_size = 4 << 20;
    return d;
}

store::TrackingRecord sample() {
    store::TrackingRecord record;
    record.domain_name = "web & <test>";
    record.domain_uuid = uuid;
    record.domain_dir = "/backup/web";
    record.set_id = set_id;
    record.overlay_id = older_id;
    xml::SnapshotDisk vda = disk("vda", "/img/web.qcow2", "/img/web.virtsnap-" + older_id + ".vda.qcow2");
    vda.chain = {{"/img/base.raw", "raw"}};
    record.disks.push_back(vda);
    record.disks.push_back(disk("vdb", "/img/data.qcow2", "/img/data.virtsnap-" + older_id + ".vdb.qcow2"));
    return record;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const size_t at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from);
    return text.replace(at, from.size(), to);
}

void check_refused(const std::string& text, const std::string& expected) {
    CAPTURE(text);
    CAPTURE(expected);
    CHECK_THROWS_WITH_AS(store::parse_tracking_record(text, "change record 't'"),
                         doctest::Contains(expected.c_str()), util::InputError);
}

} // namespace

TEST_CASE("change record: to_xml and parse_tracking_record give back every field") {
    const store::TrackingRecord record = sample();
    const std::string text = store::to_xml(record);
    CHECK(text.find("<virtsnap-tracking version=\"1\">") != std::string::npos);
    const store::TrackingRecord back = store::parse_tracking_record(text, "t");
    CHECK(back.domain_name == "web & <test>");
    CHECK(back.domain_uuid == uuid);
    CHECK(back.domain_dir == "/backup/web");
    CHECK(back.set_id == set_id);
    CHECK(back.overlay_id == older_id);
    REQUIRE(back.disks.size() == 2);
    CHECK(back.disks[0].target == "vda");
    CHECK(back.disks[0].frozen == "/img/web.qcow2");
    CHECK(back.disks[0].overlay == "/img/web.virtsnap-" + older_id + ".vda.qcow2");
    CHECK(back.disks[0].virtual_size == 4 << 20);
    REQUIRE(back.disks[0].chain.size() == 1);
    CHECK(back.disks[0].chain[0].path == "/img/base.raw");
    CHECK(back.disks[0].chain[0].format == "raw");
    CHECK(back.disks[1].target == "vdb");
    CHECK(back.disks[1].chain.empty());
    CHECK(store::to_xml(back) == text);

    REQUIRE(back.find("vdb"));
    CHECK(back.find("vdb")->frozen == "/img/data.qcow2");
    CHECK_FALSE(back.find("vdc"));

    // The overlays may be those of the set itself (a full, an online inc).
    store::TrackingRecord same = sample();
    same.overlay_id = same.set_id;
    CHECK(store::parse_tracking_record(store::to_xml(same), "t").overlay_id == set_id);
}

TEST_CASE("change record: every hostile field is refused, naming it") {
    const std::string text = store::to_xml(sample());
    REQUIRE_NOTHROW(store::parse_tracking_record(text, "t"));

    check_refused(replaced(text, uuid, "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c1"), "domain UUID");
    check_refused(replaced(text, uuid, "6f0e3b43x8d0a-4b1e-9a59-2d6d7e6a1c11"), "domain UUID");
    check_refused(replaced(text, "dir=\"/backup/web\"", "dir=\"backup/web\""),
                  "domain directory 'backup/web'");
    check_refused(replaced(text, "dir=\"/backup/web\"", "dir=\"/backup/../etc\""),
                  "domain directory '/backup/../etc'");
    check_refused(replaced(text, "dir=\"/backup/web\"", "dir=\"/backup/./web\""), "domain directory");
    check_refused(replaced(text, "dir=\"/backup/web\"", ""), "lacks the attribute dir");
    check_refused(replaced(text, "set=\"" + set_id + "\"", "set=\"../" + set_id + "\""), "set id '../");
    check_refused(replaced(text, "set=\"" + set_id + "\"", "set=\"20261101-000000-0002\""), "set id");
    check_refused(replaced(text, "set=\"" + set_id + "\"", ""), "lacks the attribute set");
    check_refused(replaced(text, "overlays=\"" + older_id + "\"", "overlays=\"20261101-000000-000-0003\""),
                  "overlay snapshot id '20261101-000000-000-0003' is malformed or newer than its set");
    check_refused(replaced(text, "overlays=\"" + older_id + "\"", "overlays=\"x/y\""), "overlay snapshot id");
    check_refused(replaced(text, "overlays=\"" + older_id + "\"", ""), "lacks the attribute overlays");

    // Disks: none, one twice, one whose overlay is its own image.
    const size_t first = text.find("<disk ");
    const size_t second = text.find("<disk ", first + 1);
    const size_t end = text.find("</disks>");
    REQUIRE(first != std::string::npos);
    REQUIRE(second != std::string::npos);
    REQUIRE(end != std::string::npos);
    const std::string vda = text.substr(first, second - first);
    check_refused(text.substr(0, first) + text.substr(end), "it names no disk");
    check_refused(text.substr(0, second) + vda + text.substr(second), "disk 'vda' appears twice");
    check_refused(replaced(text, "/img/data.virtsnap-" + older_id + ".vdb.qcow2", "/img/data.qcow2"),
                  "the overlay is the frozen image itself");
    const size_t disks = text.find("<disks>");
    REQUIRE(disks != std::string::npos);
    check_refused(text.substr(0, disks) + text.substr(end + 8), "expected exactly one <disks>, found 0");

    // Not a change record, or not one this virtsnap reads.
    check_refused(replaced(replaced(text, "<virtsnap-tracking", "<virtsnap-state"), "</virtsnap-tracking>",
                           "</virtsnap-state>"),
                  "the root element is <virtsnap-state>, not <virtsnap-tracking>");
    check_refused(replaced(text, "version=\"1\"", "version=\"2\""), "format version '2' is not supported");
    check_refused(replaced(text, "version=\"1\"", ""), "lacks the attribute version");
    check_refused(replaced(text, "<domain ", "<domain/><domain "), "expected exactly one <domain>, found 2");
    check_refused(replaced(text, "<chain ", "<chain/><chain "), "expected exactly one <chain>, found 2");
    check_refused(replaced(text, "<virtsnap-tracking",
                           "<!DOCTYPE virtsnap-tracking [<!ENTITY x 'y'>]>\n<virtsnap-tracking"),
                  "DTD");
    check_refused(text.substr(0, text.size() / 2), "change record 't'");
}

TEST_CASE("change record: its stamps read back, and only as stamps of its own disks") {
    store::TrackingRecord record = sample();
    record.stamps = {{"vda", "2049:11", "2049:12:4096:1700000000123456789"}, {"vdb", "2049:21", ""}};
    const std::string text = store::to_xml(record);
    const store::TrackingRecord back = store::parse_tracking_record(text, "t");
    REQUIRE(back.stamps.size() == 2);
    CHECK(back.stamps[0].target == "vda");
    CHECK(back.stamps[0].overlay == "2049:11");
    CHECK(back.stamps[0].image == "2049:12:4096:1700000000123456789");
    CHECK(back.stamps[1].target == "vdb");
    CHECK(back.stamps[1].overlay == "2049:21");
    CHECK(back.stamps[1].image.empty());
    REQUIRE(back.stamps_of("vdb"));
    CHECK(back.stamps_of("vdb")->overlay == "2049:21");
    CHECK_FALSE(back.stamps_of("vdc"));
    CHECK(store::to_xml(back) == text);

    // A record without stamps reads back without (and is not trusted).
    CHECK(store::parse_tracking_record(store::to_xml(sample()), "t").stamps.empty());

    // Stamps of a disk the record does not name, or of one disk twice.
    check_refused(replaced(text, "target=\"vdb\" overlay=\"2049:21\"", "target=\"vdc\" overlay=\"2049:21\""),
                  "stamps of disk 'vdc' are not of one of its disks");
    check_refused(replaced(text, "target=\"vdb\" overlay=\"2049:21\"", "target=\"vda\" overlay=\"2049:21\""),
                  "stamps of disk 'vda' are not of one of its disks");
    check_refused(replaced(text, "target=\"vdb\" overlay=\"2049:21\"", "overlay=\"2049:21\""),
                  "lacks the attribute target");
    check_refused(replaced(text, "image=\"2049:12:4096:1700000000123456789\"", ""),
                  "lacks the attribute image");
}

TEST_CASE("change record: stamp_files stamps the overlay by identity, the own image also by content") {
    test::TempDir dir;
    const std::string image = (dir / "web.qcow2").string();
    const std::string overlay = (dir / ("web.virtsnap-" + older_id + ".vda.qcow2")).string();
    test::write_file(image, "image");
    test::write_file(overlay, "overlay");
    store::TrackingRecord record = sample();
    record.disks.resize(1);
    record.disks[0].frozen = image;
    record.disks[0].overlay = overlay;
    store::stamp_files(record);
    REQUIRE(record.stamps.size() == 1);
    CHECK(record.stamps[0].target == "vda");
    CHECK(record.stamps[0].overlay == store::file_stamp(overlay, false));
    CHECK(record.stamps[0].image == store::file_stamp(image, true));
    struct stat st {};
    REQUIRE(::stat(overlay.c_str(), &st) == 0);
    CHECK(record.stamps[0].overlay == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino));
    REQUIRE(::stat(image.c_str(), &st) == 0);
    const std::string identity = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    CHECK(record.stamps[0].image.rfind(identity + ":5:", 0) == 0);
    CHECK(store::file_stamp(image, false) == identity);
    CHECK(store::file_stamp((dir / "missing").string(), true).empty());
    // A directory is stamped by identity only.
    CHECK(store::file_stamp(dir.path().string(), true).find(':') ==
          store::file_stamp(dir.path().string(), true).rfind(':'));

    // Written since: the image's stamp moves, the overlay's does not.
    test::write_file(image, "image, written");
    test::write_file(overlay, "overlay, written");
    CHECK(store::file_stamp(image, true) != record.stamps[0].image);
    CHECK(store::file_stamp(overlay, false) == record.stamps[0].overlay);

    // Stamping again replaces the stamps; they survive the file.
    store::stamp_files(record);
    REQUIRE(record.stamps.size() == 1);
    CHECK(record.stamps[0].image == store::file_stamp(image, true));
    CHECK(store::parse_tracking_record(store::to_xml(record), "t").stamps[0].image == record.stamps[0].image);
}

TEST_CASE("change record: saved privately, loaded only as its own domain's, removed") {
    test::TempDir dir;
    const std::string state = (dir / "state").string();
    CHECK_FALSE(store::load_tracking(state, uuid));

    store::save_tracking(state, sample());
    const std::string path = store::tracking_path(state, uuid);
    CHECK(path == state + "/" + uuid + ".tracking");
    struct stat st {};
    REQUIRE(::stat(state.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // Not a state record: the two live side by side.
    CHECK_FALSE(std::filesystem::exists(store::state_path(state, uuid)));

    const std::optional<store::TrackingRecord> loaded = store::load_tracking(state, uuid);
    REQUIRE(loaded);
    CHECK(store::to_xml(*loaded) == store::to_xml(sample()));

    // Another domain's record under this domain's name.
    const std::string other = "00000000-0000-4000-8000-000000000001";
    test::write_file(store::tracking_path(state, other), test::read_file(path));
    CHECK_THROWS_WITH_AS(store::load_tracking(state, other),
                         doctest::Contains(("belongs to domain UUID " + uuid).c_str()), util::InputError);

    // A damaged one names the file.
    const std::string text = test::read_file(path);
    test::write_file(path, text.substr(0, text.size() / 2));
    CHECK_THROWS_WITH_AS(store::load_tracking(state, uuid), doctest::Contains(path.c_str()),
                         util::InputError);

    store::save_tracking(state, sample());
    REQUIRE(store::load_tracking(state, uuid));
    store::remove_tracking(state, uuid);
    CHECK_FALSE(std::filesystem::exists(path));
    CHECK_FALSE(store::load_tracking(state, uuid));
    CHECK(std::filesystem::exists(store::tracking_path(state, other))); // untouched

    CHECK_THROWS_AS(store::tracking_path(state, "../x"), util::Error);
}

TEST_CASE("change record after a run: disks on a kept overlay come back to the image below it") {
    const std::string below = older_id;
    store::StateRecord state;
    state.stage = store::Stage::keeping;
    state.domain_name = "web";
    state.domain_uuid = uuid;
    state.snapshot_id = set_id;
    state.set_dir = "/backup/web/" + set_id;
    state.below = below;
    auto overlay = [](const std::string& stem, const std::string& id, const std::string& target) {
        return "/img/" + stem + ".virtsnap-" + id + "." + target + ".qcow2";
    };
    // vda: a raw disk on the overlay the previous full kept.
    xml::SnapshotDisk vda = disk("vda", overlay("web", below, "vda"), overlay("web", set_id, "vda"));
    vda.chain = {{"/img/web.raw", "raw"}};
    // vdb: a qcow2 on a base, on the kept overlay.
    xml::SnapshotDisk vdb = disk("vdb", overlay("data", below, "vdb"), overlay("data", set_id, "vdb"));
    vdb.chain = {{"/img/data.qcow2", "qcow2"}, {"/img/data-base.raw", "raw"}};
    // vdc: on its own image (not tracked before).
    xml::SnapshotDisk vdc = disk("vdc", "/img/logs.qcow2", overlay("logs", set_id, "vdc"));
    vdc.chain = {{"/img/logs-base.qcow2", "qcow2"}};
    // vdd: on an overlay of another snapshot; vde: on the kept overlay's
    // name for another disk. Neither is what `below` left.
    xml::SnapshotDisk vdd =
        disk("vdd", overlay("old", "20261001-000000-000-0001", "vdd"), overlay("old", set_id, "vdd"));
    vdd.chain = {{"/img/old.qcow2", "qcow2"}};
    xml::SnapshotDisk vde = disk("vde", overlay("misc", below, "vda"), overlay("misc", set_id, "vde"));
    vde.chain = {{"/img/misc.qcow2", "qcow2"}};
    state.disks = {vda, vdb, vdc, vdd, vde};

    const store::TrackingRecord tracking = store::tracking_after(state);
    CHECK(tracking.domain_name == "web");
    CHECK(tracking.domain_uuid == uuid);
    CHECK(tracking.domain_dir == "/backup/web");
    CHECK(tracking.set_id == set_id);
    CHECK(tracking.overlay_id == set_id);
    REQUIRE(tracking.disks.size() == 5);

    const xml::SnapshotDisk& a = tracking.disks[0];
    CHECK(a.target == "vda");
    CHECK(a.frozen == "/img/web.raw");
    CHECK(a.format == "raw");
    CHECK(a.chain.empty());
    CHECK(a.overlay == overlay("web", set_id, "vda"));
    CHECK(a.virtual_size == 4 << 20);

    const xml::SnapshotDisk& b = tracking.disks[1];
    CHECK(b.frozen == "/img/data.qcow2");
    CHECK(b.format == "qcow2");
    REQUIRE(b.chain.size() == 1);
    CHECK(b.chain[0].path == "/img/data-base.raw");
    CHECK(b.chain[0].format == "raw");
    CHECK(b.overlay == overlay("data", set_id, "vdb"));

    for (size_t i = 2; i < 5; ++i) {
        CAPTURE(i);
        const xml::SnapshotDisk& kept = tracking.disks[i];
        const xml::SnapshotDisk& was = state.disks[i];
        CHECK(kept.target == was.target);
        CHECK(kept.frozen == was.frozen);
        CHECK(kept.format == was.format);
        CHECK(kept.overlay == was.overlay);
        REQUIRE(kept.chain.size() == 1);
        CHECK(kept.chain[0].path == was.chain[0].path);
    }

    // What it makes is a record that reads back.
    CHECK(store::to_xml(store::parse_tracking_record(store::to_xml(tracking), "t")) ==
          store::to_xml(tracking));

    // Without a kept overlay below, every disk is on its own image.
    store::StateRecord untracked = state;
    untracked.below.clear();
    const store::TrackingRecord plain = store::tracking_after(untracked);
    REQUIRE(plain.disks.size() == 5);
    for (size_t i = 0; i < 5; ++i) {
        CAPTURE(i);
        CHECK(plain.disks[i].frozen == state.disks[i].frozen);
        CHECK(plain.disks[i].chain.size() == state.disks[i].chain.size());
    }
}
