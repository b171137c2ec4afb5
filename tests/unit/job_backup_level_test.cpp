// The level a set is really taken at: copy and full as asked; inc only on a
// change record that still holds (same destination, the same disks, each on
// the record's overlay, that overlay and the disk's own image still the
// files the record was stamped with, the overlay still on that image) over
// a previous set that is older, complete, readable, of the same domain,
// left the disk on that overlay, and holds each disk as a qcow2 of the same
// size; otherwise a full, with the reason.

#include "chain_sets.hpp"
#include "job/backup_level.hpp"
#include "store/backup_set.hpp"
#include "store/set_layout.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

const std::string full_id = test::chain_set_id(1);
const std::string inc1_id = test::chain_set_id(2);
const std::string now_id = test::chain_set_id(3);

std::string overlay_of(const std::string& id, const std::string& target) {
    return "/img/web.virtsnap-" + id + "." + target + ".qcow2";
}

// A disk of the record: on overlay, its own image image.
xml::SnapshotDisk kept_disk(const std::string& target, const std::string& image, const std::string& overlay) {
    xml::SnapshotDisk disk;
    disk.target = target;
    disk.source_type = "file";
    disk.format = "qcow2";
    disk.frozen = image;
    disk.overlay = overlay;
    disk.virtual_size = test::chain_disk_size;
    return disk;
}

// A disk of this run's snapshot: frozen on overlay, which is on image.
xml::ManifestDisk snapshot_disk(const std::string& target, const std::string& overlay,
                                const std::string& image) {
    xml::ManifestDisk disk;
    disk.target = target;
    disk.source_type = "file";
    disk.format = "qcow2";
    disk.frozen = overlay;
    disk.overlay = overlay_of(now_id, target);
    disk.chain = {{image, "qcow2"}};
    disk.virtual_size = test::chain_disk_size;
    return disk;
}

std::string make_image(const fs::path& path) {
    util::run_checked(
        {"qemu-img", "create", "-q", "-f", "qcow2", path.string(), std::to_string(test::chain_disk_size)});
    return path.string();
}

// A full set on disk, the record it kept and this run's snapshot on it. The
// full is offline, so the disk it left the domain on (its kept overlay) is
// its frozen image: a real file, as is the disk's own image below it.
struct Tracked {
    Tracked() = default;
    // sums: the full keeps block sums, as every level set now does.
    explicit Tracked(bool sums) : with_sums(sums) {}

    bool with_sums = false;
    test::TempDir dir;
    test::ChainSets sets{dir};
    xml::Manifest full = sets.add_full(full_id, {"write -P 0x61 0 64k"}, false, with_sums);
    std::string domain_dir = sets.domain_dir().string();
    std::string image = make_image(dir / "web.qcow2");
    std::string kept = full.disks[0].frozen;
    job::TrackingState tracking = state_on(full_id);
    xml::Manifest snapshot = snapshot_on(kept);

    // The record a run that wrote set leaves, stamped now.
    job::TrackingState state_on(const std::string& set) const {
        store::TrackingRecord record;
        record.domain_name = "web";
        record.domain_uuid = test::chain_domain_uuid;
        record.domain_dir = domain_dir;
        record.set_id = set;
        record.overlay_id = full_id;
        record.disks.push_back(kept_disk("vda", image, kept));
        store::stamp_files(record);
        job::TrackingState state;
        state.record = record;
        return state;
    }

    xml::Manifest snapshot_on(const std::string& overlay) const {
        xml::Manifest m;
        m.domain_name = "web";
        m.domain_uuid = test::chain_domain_uuid;
        m.snapshot_id = now_id;
        m.snapshot_time = "2026-11-01T00:00:00Z";
        m.disks.push_back(snapshot_disk("vda", overlay, image));
        return m;
    }

    // An offline inc on the full, of the disk on the kept overlay, and the
    // record it leaves.
    xml::Manifest continue_with_inc() {
        xml::Manifest inc = sets.add_inc(inc1_id, full_id, {"write -P 0x62 1M 64k"});
        inc.disks[0].frozen = kept;
        sets.write_manifest(inc1_id, inc);
        tracking = state_on(inc1_id);
        return inc;
    }

    job::LevelChoice inc() const {
        return job::choose_level(job::Level::inc, tracking, domain_dir, snapshot);
    }

    // An inc that fell back to a full: the reason starts as every such one does.
    std::string fallback() const {
        const job::LevelChoice choice = inc();
        CHECK(choice.level == job::Level::full);
        CHECK(choice.parent.empty());
        const std::string prefix = "inc asked for, full taken: ";
        CHECK(choice.reason.compare(0, prefix.size(), prefix) == 0);
        return choice.reason;
    }
};

void check_fallback(const Tracked& t, const std::string& expected) {
    CAPTURE(expected);
    const std::string reason = t.fallback();
    CAPTURE(reason);
    CHECK(reason.find(expected) != std::string::npos);
}

// Replaces the file at path by another (a new inode) of the same content.
void replace_file(const fs::path& path) {
    const fs::path other = path.string() + ".new";
    fs::copy_file(path, other);
    fs::rename(other, path);
}

} // namespace

TEST_CASE("backup level: copy and full are taken as asked, record or not") {
    Tracked t;
    for (const job::TrackingState& state : {t.tracking, job::TrackingState{}}) {
        for (job::Level level : {job::Level::copy, job::Level::full}) {
            CAPTURE(job::to_string(level));
            const job::LevelChoice choice = job::choose_level(level, state, t.domain_dir, t.snapshot);
            CHECK(choice.level == level);
            CHECK(choice.parent.empty());
            CHECK(choice.reason.empty());
        }
    }
    // Even when the record could not carry an inc.
    job::TrackingState elsewhere = t.tracking;
    elsewhere.record->domain_dir = "/elsewhere/web";
    CHECK(job::choose_level(job::Level::full, elsewhere, t.domain_dir, t.snapshot).reason.empty());
}

TEST_CASE("backup level: an inc on a record that holds continues its set") {
    Tracked t;
    const job::LevelChoice choice = t.inc();
    CHECK(choice.level == job::Level::inc);
    CHECK(choice.parent == full_id);
    CHECK(choice.reason.empty());
    CHECK_FALSE(choice.by_content);

    // On an incremental set: the record's set, not the full below it.
    t.continue_with_inc();
    const job::LevelChoice on_inc = t.inc();
    CHECK(on_inc.level == job::Level::inc);
    CHECK(on_inc.parent == inc1_id);
    CHECK(on_inc.reason.empty());
}

TEST_CASE("backup level: an online previous set leaves the disk on its snapshot's overlay") {
    Tracked t;
    xml::Manifest online = t.full;
    online.offline = false;
    online.disks[0].frozen = t.image;
    online.disks[0].overlay = t.kept;
    t.sets.write_manifest(full_id, online);
    REQUIRE(store::read_set(t.sets.set_dir(full_id).string()).manifest->disks[0].overlay == t.kept);
    const job::LevelChoice choice = t.inc();
    CHECK(choice.level == job::Level::inc);
    CHECK(choice.parent == full_id);
    CHECK(choice.reason.empty());
}

TEST_CASE("backup level: an inc without a record that holds is a full, saying why") {
    Tracked t;
    SUBCASE("no record") {
        t.tracking = job::TrackingState{};
        const std::string reason = t.fallback();
        CHECK(reason.rfind("inc asked for, full taken: the domain has no change record", 0) == 0);
    }
    SUBCASE("the record was lost: its own words") {
        t.tracking = job::TrackingState{};
        t.tracking.lost = "its change record no longer held";
        CHECK(
            t.fallback().rfind("inc asked for, full taken: its change record no longer held; not by content "
                               "either: ",
                               0) == 0);
    }
    SUBCASE("a record of another destination") {
        t.tracking.record->domain_dir = "/elsewhere/web";
        check_fallback(t, "continues the sets in '/elsewhere/web', not in '" + t.domain_dir + "'");
    }
    SUBCASE("a disk added since") {
        t.snapshot.disks.push_back(snapshot_disk("vdb", overlay_of(full_id, "vdb"), "/img/vdb.qcow2"));
        check_fallback(t, "disk 'vdb' is not in the change record (added since its set " + full_id + ")");
    }
    SUBCASE("a disk of the record left out of this backup") {
        t.tracking.record->disks.push_back(kept_disk("vdb", "/img/vdb.qcow2", overlay_of(full_id, "vdb")));
        check_fallback(t, "disk 'vdb' of the change record is not in this backup");
    }
    SUBCASE("a disk not on the record's overlay") {
        t.snapshot.disks[0].frozen = t.image;
        check_fallback(t, "disk 'vda' is not on the change record's overlay '" + t.kept + "'");
    }
    SUBCASE("a disk on another snapshot's overlay") {
        t.snapshot.disks[0].frozen = overlay_of(test::chain_set_id(0), "vda");
        check_fallback(t, "disk 'vda' is not on the change record's overlay");
    }
    SUBCASE("the kept overlay is no longer backed by the disk's own image") {
        t.snapshot.disks[0].chain.front().path = make_image(t.dir / "other.qcow2");
        check_fallback(t, "the kept overlay of disk 'vda' is no longer backed by its own image '" + t.image +
                              "'");
    }
    SUBCASE("the kept overlay is on no image at all") {
        t.snapshot.disks[0].chain.clear();
        check_fallback(t, "the kept overlay of disk 'vda' is no longer backed by its own image");
    }
    SUBCASE("the kept overlay was replaced by another file at its path") {
        replace_file(t.kept);
        check_fallback(t, "the kept overlay '" + t.kept + "' is not the file the change record names");
    }
    SUBCASE("the kept overlay is gone") {
        fs::remove(t.kept);
        check_fallback(t, "the kept overlay '" + t.kept + "' is not the file the change record names");
    }
    SUBCASE("a record without stamps") {
        t.tracking.record->stamps.clear();
        check_fallback(t, "the kept overlay '" + t.kept + "' is not the file the change record names");
    }
    SUBCASE("a record stamped before its files were there") {
        fs::remove(t.kept);
        t.tracking = t.state_on(full_id);
        REQUIRE(t.tracking.record->stamps.at(0).overlay.empty());
        test::write_file(t.kept, "");
        check_fallback(t, "the kept overlay '" + t.kept + "' is not the file the change record names");
    }
    SUBCASE("the own image could not be read when the record was stamped, nor now") {
        fs::rename(t.image, t.dir / "aside.qcow2");
        t.tracking = t.state_on(full_id);
        REQUIRE(t.tracking.record->stamps.at(0).image.empty());
        check_fallback(t, "the image '" + t.image +
                              "' of disk 'vda' changed since the change record was written");
    }
    SUBCASE("the own image was written since the record (its size)") {
        util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0x63 2M 64k", t.image});
        check_fallback(t, "the image '" + t.image +
                              "' of disk 'vda' changed since the change record was written");
    }
    SUBCASE("the own image was written since the record (its modification time)") {
        fs::last_write_time(t.image, fs::last_write_time(t.image) + std::chrono::seconds(1));
        check_fallback(t, "the image '" + t.image +
                              "' of disk 'vda' changed since the change record was written");
    }
    SUBCASE("the own image was replaced by a copy of itself") {
        const auto mtime = fs::last_write_time(t.image);
        replace_file(t.image);
        fs::last_write_time(t.image, mtime);
        check_fallback(t, "the image '" + t.image +
                              "' of disk 'vda' changed since the change record was written");
    }
    SUBCASE("this snapshot is not newer than the record's set") {
        t.snapshot.snapshot_id = full_id;
        check_fallback(t, "this set's id " + full_id + " is not newer than the previous set's " + full_id);
        t.snapshot.snapshot_id = test::chain_set_id(0);
        check_fallback(t, "is not newer than the previous set's " + full_id);
    }
    SUBCASE("the previous set did not leave the disk on the kept overlay") {
        xml::Manifest other = t.full;
        other.disks[0].frozen = t.image;
        t.sets.write_manifest(full_id, other);
        check_fallback(t, "the previous set " + full_id + " did not leave disk 'vda' on its kept overlay");
    }
    SUBCASE("the previous online set left the disk on another overlay") {
        xml::Manifest online = t.full;
        online.offline = false;
        online.disks[0].frozen = t.image;
        online.disks[0].overlay = overlay_of(full_id, "vda");
        t.sets.write_manifest(full_id, online);
        check_fallback(t, "the previous set " + full_id + " did not leave disk 'vda' on its kept overlay");
    }
    SUBCASE("the previous set is missing") {
        fs::remove_all(t.sets.set_dir(full_id));
        check_fallback(t, "the previous set of the chain cannot be used: ");
        check_fallback(t, "is not a backup set");
    }
    SUBCASE("the record names a set that was never there") {
        t.tracking = t.state_on(test::chain_set_id(5));
        t.snapshot.snapshot_id = test::chain_set_id(6);
        check_fallback(t, "the previous set of the chain cannot be used: ");
        check_fallback(t, test::chain_set_id(5));
    }
    SUBCASE("the previous set is incomplete") {
        fs::remove(t.sets.set_dir(full_id) / store::set_marker_file);
        check_fallback(t, "the previous set of the chain cannot be used: ");
        check_fallback(t, "is incomplete");
    }
    SUBCASE("the previous set's manifest is damaged") {
        const fs::path manifest = t.sets.set_dir(full_id) / store::set_manifest_file;
        const std::string text = test::read_file(manifest);
        test::write_file(manifest, text.substr(0, text.size() / 2));
        check_fallback(t, "the previous set of the chain cannot be used: ");
    }
    SUBCASE("the previous set holds the disk as a raw image") {
        xml::Manifest raw = t.full;
        raw.disks[0].backup->format = "raw";
        raw.disks[0].backup->source_options.reset();
        raw.disks[0].backup->files[0].name = "vda.raw";
        t.sets.write_manifest(full_id, raw);
        REQUIRE(store::read_set(t.sets.set_dir(full_id).string()).manifest->disks[0].backup->format == "raw");
        check_fallback(t, "the previous set " + full_id + " holds disk 'vda' as a raw image");
    }
    SUBCASE("the previous set holds no such disk") {
        xml::Manifest other = t.full;
        other.disks[0].target = "vdb";
        other.disks[0].backup->files[0].name = "vdb.qcow2";
        t.sets.write_manifest(full_id, other);
        REQUIRE(store::read_set(t.sets.set_dir(full_id).string()).manifest->disks[0].target == "vdb");
        check_fallback(t, "the previous set " + full_id + " holds no backup of disk 'vda'");
    }
    SUBCASE("the disk was resized") {
        t.snapshot.disks[0].virtual_size = 2 * test::chain_disk_size;
        check_fallback(t, "disk 'vda' was resized since the previous set " + full_id);
    }
    SUBCASE("the previous set's manifest records another set") {
        xml::Manifest other = t.full;
        other.snapshot_id = test::chain_set_id(0);
        t.sets.write_manifest(full_id, other);
        REQUIRE(store::read_set(t.sets.set_dir(full_id).string()).manifest->snapshot_id ==
                test::chain_set_id(0));
        check_fallback(t, "the previous set of the chain cannot be used: ");
        check_fallback(t, "records the set '" + test::chain_set_id(0) + "'");
    }
    SUBCASE("the previous set is a symbolic link") {
        fs::rename(t.sets.set_dir(full_id), t.dir / "moved");
        fs::create_directory_symlink(t.dir / "moved", t.sets.set_dir(full_id));
        check_fallback(t, "the previous set of the chain cannot be used: ");
    }
    SUBCASE("a set below the previous one is gone") {
        t.continue_with_inc();
        REQUIRE(t.inc().level == job::Level::inc);
        fs::remove_all(t.sets.set_dir(full_id));
        check_fallback(t, "the previous set of the chain cannot be used: ");
        check_fallback(t, "the parent set " + full_id);
    }
    SUBCASE("the previous set is of another domain") {
        xml::Manifest other = t.full;
        other.domain_uuid = "00000000-0000-4000-8000-000000000001";
        t.sets.write_manifest(full_id, other);
        check_fallback(t, "the previous set " + full_id + " is of another domain");
    }
}

TEST_CASE("backup level: the choice is recorded in the manifest") {
    Tracked t;
    xml::Manifest m = t.snapshot;
    job::record_level(m, t.inc());
    CHECK(m.level == "inc");
    CHECK(m.parent == full_id);
    CHECK(m.level_reason.empty());

    t.tracking = job::TrackingState{};
    const job::LevelChoice fallback = t.inc();
    job::record_level(m, fallback);
    CHECK(m.level == "full");
    CHECK(m.parent.empty());
    CHECK(m.level_reason == fallback.reason);

    job::record_level(m, job::choose_level(job::Level::copy, t.tracking, t.domain_dir, t.snapshot));
    CHECK(m.level == "copy");
    CHECK(m.parent.empty());
    CHECK(m.level_reason.empty());
}

TEST_CASE("backup level: a full or inc must back up every disk of the record") {
    Tracked t;
    CHECK_NOTHROW(job::check_record_covered(t.tracking, t.snapshot));
    CHECK_NOTHROW(job::check_record_covered(job::TrackingState{}, t.snapshot));
    // More disks than the record is fine: the new record names them.
    xml::Manifest more = t.snapshot;
    more.disks.push_back(snapshot_disk("vdb", overlay_of(full_id, "vdb"), "/img/vdb.qcow2"));
    CHECK_NOTHROW(job::check_record_covered(t.tracking, more));

    t.tracking.record->disks.push_back(kept_disk("vdb", "/img/vdb.qcow2", overlay_of(full_id, "vdb")));
    CHECK_THROWS_WITH_AS(job::check_record_covered(t.tracking, t.snapshot),
                         doctest::Contains("disk 'vdb' is in the domain's change record"),
                         util::RefusedError);
    CHECK_NOTHROW(job::check_record_covered(t.tracking, more));

    // Before the snapshot, from what --disk and --exclude-disk ask for.
    CHECK_NOTHROW(job::check_record_covered(t.tracking, {}, {}));
    CHECK_NOTHROW(job::check_record_covered(t.tracking, {"vda", "vdb", "vdc"}, {"vdc"}));
    CHECK_THROWS_WITH_AS(job::check_record_covered(t.tracking, {"vda"}, {}),
                         doctest::Contains("disk 'vdb' is in the domain's change record"),
                         util::RefusedError);
    CHECK_THROWS_WITH_AS(job::check_record_covered(t.tracking, {}, {"vdb"}),
                         doctest::Contains("disk 'vdb' is in the domain's change record"),
                         util::RefusedError);
    CHECK_NOTHROW(job::check_record_covered(job::TrackingState{}, {"vda"}, {"vdb"}));
}

namespace {

// An inc (or diff) by content on the set base, for the reason broken.
void check_by_content(const job::LevelChoice& choice, job::Level level, const std::string& base,
                      const std::string& broken) {
    const std::string word = job::to_string(level);
    CHECK(choice.level == level);
    CHECK(choice.by_content);
    CHECK(choice.parent == base);
    CAPTURE(choice.reason);
    CHECK(choice.reason.rfind(word + " asked for, " + word + " by content on the set " + base + " taken",
                              0) == 0);
    CHECK(choice.reason.find(broken) != std::string::npos);
    REQUIRE(choice.parent_sums);
    REQUIRE(choice.parent_sums->count("vda") == 1);
    CHECK(choice.parent_sums->at("vda").virtual_size() == test::chain_disk_size);
}

// A full, though the previous set was considered: its reason says why not.
void check_not_by_content(const Tracked& t, const std::string& why) {
    const std::string reason = t.fallback();
    CAPTURE(reason);
    CHECK(reason.find("; not by content either: ") != std::string::npos);
    CHECK(reason.find(why) != std::string::npos);
}

} // namespace

TEST_CASE("backup level: without a record that holds, an inc by content on the previous set") {
    Tracked t(true);
    SUBCASE("no record: the newest level set of the domain") {
        t.tracking = job::TrackingState{};
        check_by_content(t.inc(), job::Level::inc, full_id, "the domain has no change record");
    }
    SUBCASE("the record was lost") {
        t.tracking = job::TrackingState{};
        t.tracking.lost = "its change record no longer held";
        check_by_content(t.inc(), job::Level::inc, full_id, "its change record no longer held");
    }
    SUBCASE("a record of another destination: the newest set here") {
        t.tracking.record->domain_dir = "/elsewhere/web";
        check_by_content(t.inc(), job::Level::inc, full_id, "continues the sets in '/elsewhere/web'");
    }
    SUBCASE("a record that no longer holds: its own set") {
        util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0x63 2M 64k", t.image});
        check_by_content(t.inc(), job::Level::inc, full_id, "changed since the change record was written");
    }
    SUBCASE("the record's set, not a newer one of another level") {
        t.tracking = job::TrackingState{};
        // A newer copy set and a newer set of another domain are not compared with.
        xml::Manifest copy = t.full;
        copy.snapshot_id = test::chain_set_id(2);
        copy.level = "copy";
        fs::create_directory(t.sets.set_dir(copy.snapshot_id));
        t.sets.write_manifest(copy.snapshot_id, copy);
        check_by_content(t.inc(), job::Level::inc, full_id, "no change record");
        xml::Manifest other = t.full;
        other.snapshot_id = test::chain_set_id(2);
        other.domain_uuid = "00000000-0000-4000-8000-000000000001";
        t.sets.write_manifest(other.snapshot_id, other);
        check_by_content(t.inc(), job::Level::inc, full_id, "no change record");
    }
    SUBCASE("a diff: by content on the chain's full") {
        t.tracking = job::TrackingState{};
        const job::LevelChoice diff =
            job::choose_level(job::Level::diff, t.tracking, t.domain_dir, t.snapshot);
        check_by_content(diff, job::Level::diff, full_id, "no change record");
    }
    SUBCASE("recorded in the manifest") {
        t.tracking = job::TrackingState{};
        xml::Manifest m = t.snapshot;
        const job::LevelChoice choice = t.inc();
        job::record_level(m, choice);
        CHECK(m.level == "inc");
        CHECK(m.by_content);
        CHECK(m.parent == full_id);
        CHECK(m.level_reason == choice.reason);
        job::record_level(m, job::choose_level(job::Level::full, t.tracking, t.domain_dir, t.snapshot));
        CHECK_FALSE(m.by_content);
    }
}

TEST_CASE("backup level: no inc by content on a set that cannot carry it: a full, saying why") {
    Tracked t(true);
    t.tracking = job::TrackingState{};
    REQUIRE(t.inc().by_content);
    SUBCASE("its block sums are damaged") {
        const fs::path sums = t.sets.set_dir(full_id) / "vda.blocks";
        std::string bytes = test::read_file(sums);
        bytes[bytes.size() - 1] ^= 1;
        test::write_file(sums, bytes);
        check_not_by_content(t, "does not match the checksum");
    }
    SUBCASE("its block sums are gone") {
        fs::remove(t.sets.set_dir(full_id) / "vda.blocks");
        check_not_by_content(t, "is missing");
    }
    SUBCASE("it keeps none (made before block sums)") {
        xml::Manifest old = t.full;
        old.disks[0].backup->block_sums.reset();
        t.sets.write_manifest(full_id, old);
        check_not_by_content(t, "has no block sums");
    }
    SUBCASE("a disk added since") {
        t.snapshot.disks.push_back(snapshot_disk("vdb", overlay_of(full_id, "vdb"), "/img/vdb.qcow2"));
        check_not_by_content(t, "holds no backup of disk 'vdb'");
    }
    SUBCASE("a disk of it left out") {
        t.snapshot.disks[0].target = "vdb";
        check_not_by_content(t, "disk 'vda' of the set " + full_id + " is not in this backup");
    }
    SUBCASE("the disk was resized") {
        t.snapshot.disks[0].virtual_size = 2 * test::chain_disk_size;
        check_not_by_content(t, "disk 'vda' was resized since the set " + full_id);
    }
    SUBCASE("its image is damaged") {
        test::write_file(t.sets.set_dir(full_id) / "vda.qcow2", "not a qcow2");
        check_not_by_content(t, "the set " + full_id + " cannot be used: ");
    }
    SUBCASE("it is incomplete: no set to compare with") {
        fs::remove(t.sets.set_dir(full_id) / store::set_marker_file);
        check_not_by_content(t, "there is no complete full, inc or diff set of the domain in");
    }
    SUBCASE("it is not older than this set") {
        t.snapshot.snapshot_id = full_id;
        check_not_by_content(t, "there is no complete full, inc or diff set");
    }
    SUBCASE("the newest set keeps none: no older one is tried") {
        t.sets.add_inc(inc1_id, full_id, {"write -P 0x62 1M 64k"}); // made without block sums
        check_not_by_content(t, "disk 'vda' in '" + t.sets.set_dir(inc1_id).string() + "' has no block sums");
    }
}

TEST_CASE("backup level: an inc on a record that holds updates its parent's block sums") {
    Tracked t(true);
    const util::Log quiet("test", util::Verbosity::quiet);
    const job::BlockSumsByDisk sums =
        job::parent_block_sums(t.sets.set_dir(full_id).string(), t.snapshot, quiet);
    REQUIRE(sums);
    CHECK(sums->count("vda") == 1);
    // A set without them: none, and no error.
    Tracked plain;
    const job::BlockSumsByDisk none =
        job::parent_block_sums(plain.sets.set_dir(full_id).string(), plain.snapshot, quiet);
    REQUIRE(none);
    CHECK(none->empty());
    CHECK(job::parent_block_sums((plain.dir / "nowhere").string(), plain.snapshot, quiet)->empty());
}
