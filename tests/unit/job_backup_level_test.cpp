// The level a set is really taken at: copy and full as asked; inc only on a
// change record that still holds (same destination, the same disks, each on
// the record's overlay) over a previous set that is complete, readable, of
// the same domain, and holds each disk as a qcow2 of the same size;
// otherwise a full, with the reason.

#include "chain_sets.hpp"
#include "job/backup_level.hpp"
#include "store/backup_set.hpp"
#include "store/set_layout.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

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

xml::SnapshotDisk kept_disk(const std::string& target, const std::string& set) {
    xml::SnapshotDisk disk;
    disk.target = target;
    disk.source_type = "file";
    disk.format = "qcow2";
    disk.frozen = "/img/" + target + ".qcow2";
    disk.overlay = overlay_of(set, target);
    disk.virtual_size = test::chain_disk_size;
    return disk;
}

// The snapshot of this run: each disk frozen on the record's overlay.
xml::ManifestDisk snapshot_disk(const std::string& target, const std::string& set) {
    xml::ManifestDisk disk;
    disk.target = target;
    disk.source_type = "file";
    disk.format = "qcow2";
    disk.frozen = overlay_of(set, target);
    disk.overlay = overlay_of(now_id, target);
    disk.chain = {{"/img/" + target + ".qcow2", "qcow2"}};
    disk.virtual_size = test::chain_disk_size;
    return disk;
}

// A full set on disk, the record it kept and this run's snapshot on it.
struct Tracked {
    test::TempDir dir;
    test::ChainSets sets{dir};
    xml::Manifest full = sets.add_full(full_id, {"write -P 0x61 0 64k"});
    std::string domain_dir = sets.domain_dir().string();
    job::TrackingState tracking = state_on(full_id);
    xml::Manifest snapshot = snapshot_on(full_id);

    job::TrackingState state_on(const std::string& set) const {
        store::TrackingRecord record;
        record.domain_name = "web";
        record.domain_uuid = test::chain_domain_uuid;
        record.domain_dir = domain_dir;
        record.set_id = set;
        record.overlay_id = full_id;
        record.disks.push_back(kept_disk("vda", full_id));
        job::TrackingState state;
        state.record = record;
        return state;
    }

    static xml::Manifest snapshot_on(const std::string& overlays) {
        xml::Manifest m;
        m.domain_name = "web";
        m.domain_uuid = test::chain_domain_uuid;
        m.snapshot_id = now_id;
        m.snapshot_time = "2026-11-01T00:00:00Z";
        m.disks.push_back(snapshot_disk("vda", overlays));
        return m;
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

    // On an incremental set: the record's set, not the full below it.
    t.sets.add_inc(inc1_id, full_id, {"write -P 0x62 1M 64k"});
    t.tracking = t.state_on(inc1_id);
    const job::LevelChoice on_inc = t.inc();
    CHECK(on_inc.level == job::Level::inc);
    CHECK(on_inc.parent == inc1_id);
    CHECK(on_inc.reason.empty());
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
        CHECK(t.fallback() == "inc asked for, full taken: its change record no longer held");
    }
    SUBCASE("a record of another destination") {
        t.tracking.record->domain_dir = "/elsewhere/web";
        check_fallback(t, "continues the sets in '/elsewhere/web', not in '" + t.domain_dir + "'");
    }
    SUBCASE("a disk added since") {
        t.snapshot.disks.push_back(snapshot_disk("vdb", full_id));
        check_fallback(t, "disk 'vdb' is not in the change record (added since its set " + full_id + ")");
    }
    SUBCASE("a disk of the record left out of this backup") {
        t.tracking.record->disks.push_back(kept_disk("vdb", full_id));
        check_fallback(t, "disk 'vdb' of the change record is not in this backup");
    }
    SUBCASE("a disk not on the record's overlay") {
        t.snapshot.disks[0].frozen = "/img/vda.qcow2";
        check_fallback(t, "disk 'vda' is not on the change record's overlay '" + overlay_of(full_id, "vda") +
                              "'");
    }
    SUBCASE("a disk on another snapshot's overlay") {
        t.snapshot.disks[0].frozen = overlay_of(test::chain_set_id(0), "vda");
        check_fallback(t, "disk 'vda' is not on the change record's overlay");
    }
    SUBCASE("the previous set is missing") {
        fs::remove_all(t.sets.set_dir(full_id));
        check_fallback(t, "the previous set of the chain cannot be used: ");
        check_fallback(t, "is not a backup set");
    }
    SUBCASE("the record names a set that was never there") {
        t.tracking = t.state_on(test::chain_set_id(5));
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
        t.sets.add_inc(inc1_id, full_id, {"write -P 0x62 1M 64k"});
        t.tracking = t.state_on(inc1_id);
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
    more.disks.push_back(snapshot_disk("vdb", full_id));
    CHECK_NOTHROW(job::check_record_covered(t.tracking, more));

    t.tracking.record->disks.push_back(kept_disk("vdb", full_id));
    CHECK_THROWS_WITH_AS(job::check_record_covered(t.tracking, t.snapshot),
                         doctest::Contains("disk 'vdb' is in the domain's change record"),
                         util::RefusedError);
    CHECK_NOTHROW(job::check_record_covered(t.tracking, more));
}
