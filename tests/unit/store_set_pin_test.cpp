// A set pinned by a reader is never removed while the reader lives, and a
// reader never pins a set that is being removed.

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
    const util::UniqueFd removal = store::lock_set_for_removal(dir.string());
    CHECK_THROWS_AS(store::SetPin(std::vector<std::string>{dir.string()}), util::RefusedError);
}

TEST_CASE("a link is neither pinned nor followed by remove_set") {
    test::TempDir tmp;
    const fs::path target = make_set(tmp, "elsewhere");
    const fs::path link = tmp / "20261101-000000-000-0001";
    fs::create_directory_symlink(target, link);
    CHECK_THROWS_AS(store::SetPin(std::vector<std::string>{link.string()}), util::SystemError);
    CHECK_THROWS_AS(store::remove_set(link.string()), util::RefusedError);
    CHECK(fs::exists(target / store::set_marker_file));
    CHECK(fs::is_symlink(link));
}
