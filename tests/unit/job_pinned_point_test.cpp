// A restore point held by virtsnap-mount: pinned before a byte of it is
// read, with every set below it; refused when incomplete, on a broken
// chain, or reached through a link; its damage found by the checksums.

#include "chain_sets.hpp"
#include "job/pinned_point.hpp"
#include "store/backup_set.hpp"
#include "store/set_layout.hpp"
#include "store/set_pin.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <optional>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

const std::string full_id = test::chain_set_id(1);
const std::string inc1_id = test::chain_set_id(2);
const std::string inc2_id = test::chain_set_id(3);
const util::Log quiet("test", util::Verbosity::quiet);

} // namespace

TEST_CASE("the restore point and every set below it stay pinned while the point is held") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(full_id, {"write -P 0x61 0 256k"});
    sets.add_inc(inc1_id, full_id, {"write -P 0x62 64k 64k"});
    sets.add_inc(inc2_id, inc1_id, {"write -P 0x63 1M 64k"});
    std::optional<job::PinnedPoint> point(job::pin_restore_point(sets.set_dir(inc1_id).string(), {}));
    CHECK(store::set_pinned(sets.set_dir(inc1_id).string()));
    CHECK(store::set_pinned(sets.set_dir(full_id).string()));
    CHECK_FALSE(store::set_pinned(sets.set_dir(inc2_id).string())); // above the point: not needed
    REQUIRE(point->chains.size() == 1);
    CHECK(point->chains[0].sets.size() == 2);
    CHECK(job::restore_point_damage(*point, quiet).empty());
    CHECK_THROWS_AS(store::remove_set(sets.set_dir(full_id).string()), util::RefusedError);
    point.reset();
    CHECK_FALSE(store::set_pinned(sets.set_dir(full_id).string()));
}

TEST_CASE("a set being removed is refused before it is read") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(full_id, {"write -P 0x61 0 256k"});
    // Without its marker the set would be refused as incomplete, were it
    // read first: the pin comes first, so it is refused as being removed.
    fs::remove(sets.set_dir(full_id) / store::set_marker_file);
    const util::UniqueFd removing = store::lock_set_exclusively(sets.set_dir(full_id).string());
    CHECK_THROWS_WITH_AS(job::pin_restore_point(sets.set_dir(full_id).string(), {}),
                         doctest::Contains("is being removed"), util::RefusedError);
}

TEST_CASE("an incomplete set, a set reached through a link and a broken chain are refused") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(full_id, {"write -P 0x61 0 256k"});
    sets.add_inc(inc1_id, full_id, {"write -P 0x62 64k 64k"});

    fs::create_symlink(sets.set_dir(full_id), dir / "link");
    CHECK_THROWS(job::pin_restore_point((dir / "link").string(), {}));

    fs::rename(sets.set_dir(full_id), dir / "elsewhere");
    fs::create_directory_symlink(dir / "elsewhere", sets.set_dir(full_id));
    CHECK_THROWS_AS(job::pin_restore_point(sets.set_dir(inc1_id).string(), {}), util::InputError);
    fs::remove(sets.set_dir(full_id));
    CHECK_THROWS_AS(job::pin_restore_point(sets.set_dir(inc1_id).string(), {}), util::InputError);

    fs::remove(sets.set_dir(inc1_id) / store::set_marker_file);
    CHECK_THROWS_AS(job::pin_restore_point(sets.set_dir(inc1_id).string(), {}), util::RefusedError);
    CHECK_FALSE(store::set_pinned(sets.set_dir(inc1_id).string())); // released on the way out
}

TEST_CASE("damage in a set below the point is named with its set and disk") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(full_id, {"write -P 0x61 0 256k"});
    sets.add_inc(inc1_id, full_id, {"write -P 0x62 64k 64k"});
    util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0x77 128k 4k",
                       (sets.set_dir(full_id) / "vda.qcow2").string()});
    const job::PinnedPoint point = job::pin_restore_point(sets.set_dir(inc1_id).string(), {});
    const std::vector<std::string> damaged = job::restore_point_damage(point, quiet);
    REQUIRE(damaged.size() == 1);
    CHECK(damaged[0].find("disk 'vda' of backup set") == 0);
    CHECK(damaged[0].find("in its parent set " + full_id) != std::string::npos);
}

TEST_CASE("--nbd takes the set's only disk, or the one -d names") {
    store::BackupSet set;
    set.path = "/backup/vm1/" + full_id;
    set.manifest.emplace();
    set.manifest->disks.resize(1);
    set.manifest->disks[0].target = "vda";
    CHECK(job::nbd_disk(set, {}) == "vda");
    CHECK(job::nbd_disk(set, {"vda"}) == "vda");
    set.manifest->disks.resize(2);
    set.manifest->disks[1].target = "vdb";
    CHECK_THROWS_WITH_AS(job::nbd_disk(set, {}), doctest::Contains("several disks (vda, vdb)"),
                         util::UsageError);
    CHECK(job::nbd_disk(set, {"vdb"}) == "vdb");
    CHECK_THROWS_AS(job::nbd_disk(set, {"vda", "vdb"}), util::UsageError);
}
