// A set pinned by a reader is never removed while the reader lives, and a
// reader never pins a set that is being removed.

#include "chain_sets.hpp"
#include "store/backup_set.hpp"
#include "store/set_layout.hpp"
#include "store/set_pin.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <optional>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

fs::path make_set(const test::TempDir& tmp, const std::string& name) {
    const fs::path dir = tmp / name;
    fs::create_directories(dir);
    test::write_file(dir / store::set_manifest_file, "<manifest/>");
    store::mark_complete(dir.string(), "20261101-000000-000-0001");
    return dir;
}

} // namespace

TEST_CASE("a pinned set is refused removal, and removed once the pin ends") {
    test::TempDir tmp;
    const fs::path dir = make_set(tmp, "20261101-000000-000-0001");
    CHECK_FALSE(store::set_pinned(dir.string()));
    std::optional<store::SetPin> pin(std::in_place, std::vector<std::string>{dir.string()});
    CHECK(store::set_pinned(dir.string()));
    CHECK_THROWS_AS(store::remove_set(dir.string()), util::RefusedError);
    CHECK(fs::exists(dir / store::set_marker_file));
    CHECK(fs::exists(dir / store::set_manifest_file));
    pin.reset();
    CHECK_FALSE(store::set_pinned(dir.string()));
    store::remove_set(dir.string());
    CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("two readers pin one set; it stays until both are gone") {
    test::TempDir tmp;
    const fs::path dir = make_set(tmp, "20261101-000000-000-0001");
    std::optional<store::SetPin> first(std::in_place, std::vector<std::string>{dir.string()});
    store::SetPin second(std::vector<std::string>{dir.string()});
    first.reset();
    CHECK_THROWS_AS(store::remove_set(dir.string()), util::RefusedError);
    CHECK(fs::exists(dir / store::set_marker_file));
}

TEST_CASE("a set being removed cannot be pinned") {
    test::TempDir tmp;
    const fs::path dir = make_set(tmp, "20261101-000000-000-0001");
    const util::UniqueFd removal = store::lock_set_exclusively(dir.string());
    CHECK_THROWS_AS(store::SetPin(std::vector<std::string>{dir.string()}), util::RefusedError);
}

TEST_CASE("a set removed after it was read is refused as removed, not failed on") {
    test::TempDir tmp;
    const fs::path dir = make_set(tmp, "20261101-000000-000-0001");
    store::remove_set(dir.string());
    CHECK_THROWS_WITH_AS(store::SetPin(std::vector<std::string>{dir.string()}),
                         doctest::Contains("was removed while it was being opened"), util::RefusedError);
}

TEST_CASE("a link names what a reader pins, and is never followed by remove_set") {
    test::TempDir tmp;
    const fs::path target = make_set(tmp, "elsewhere");
    const fs::path link = tmp / "20261101-000000-000-0001";
    fs::create_directory_symlink(target, link);
    CHECK_THROWS_AS(store::remove_set(link.string()), util::RefusedError);
    CHECK(fs::exists(target / store::set_marker_file));
    CHECK(fs::is_symlink(link));
    const store::SetPin pin(std::vector<std::string>{link.string()});
    CHECK(store::set_pinned(target.string()));
}

TEST_CASE("pin_chain pins a restore point and every set below it") {
    test::TempDir tmp;
    test::ChainSets sets(tmp);
    sets.add_full(test::chain_set_id(1), {"write -P 0x61 0 64k"});
    sets.add_inc(test::chain_set_id(2), test::chain_set_id(1), {"write -P 0x62 0 4k"});
    const xml::Manifest inc =
        sets.add_inc(test::chain_set_id(3), test::chain_set_id(2), {"write -P 0x63 0 4k"});
    const fs::path other = make_set(tmp, "20261201-000000-000-0001");
    {
        const store::SetPin pin = store::pin_chain(sets.set_dir(test::chain_set_id(3)).string(), inc);
        for (int n = 1; n <= 3; ++n)
            CHECK(store::set_pinned(sets.set_dir(test::chain_set_id(n)).string()));
        CHECK_FALSE(store::set_pinned(other.string()));
    }
    CHECK_FALSE(store::set_pinned(sets.set_dir(test::chain_set_id(1)).string()));
}

TEST_CASE("pin_chain pins a backup directory that is no set (virtsnap-copy's, without a marker)") {
    test::TempDir tmp;
    test::ChainSets sets(tmp);
    const xml::Manifest full = sets.add_full(test::chain_set_id(1), {"write -P 0x61 0 64k"});
    const fs::path dir = sets.set_dir(test::chain_set_id(1));
    fs::remove(dir / store::set_marker_file);
    const store::SetPin pin = store::pin_chain(dir.string(), full);
    CHECK(store::set_pinned(dir.string()));
}
