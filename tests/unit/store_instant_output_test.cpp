// Where an instant restore may put the restored domain's images: never on
// the backup's own storage (the set's domain directory or inside it),
// however the path is spelt.

#include "store/instant_output.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace virtsnap;
namespace fs = std::filesystem;

TEST_CASE("an output directory on the set's storage is refused") {
    test::TempDir dir;
    const fs::path domain_dir = dir / "dest" / "web";
    const fs::path set = domain_dir / "20261101-000000-000-0001";
    fs::create_directories(set);
    fs::create_directories(dir / "restore");
    fs::create_directory_symlink(domain_dir, dir / "link");
    const std::vector<std::string> sets{fs::canonical(set).string()};

    for (const fs::path& refused :
         {set, set / "new", domain_dir, domain_dir / "20261109-000000-000-0001", dir / "link" / "new",
          dir / "restore" / ".." / "dest" / "web" / "x", domain_dir / "a" / "b"}) {
        CAPTURE(refused);
        CHECK_THROWS_AS(store::refuse_output_on_set_storage(refused.string(), sets), util::RefusedError);
    }
    for (const fs::path& allowed :
         {dir / "restore", dir / "restore" / "web", dir / "dest" / "web-restored", dir / "dest"}) {
        CAPTURE(allowed);
        CHECK_NOTHROW(store::refuse_output_on_set_storage(allowed.string(), sets));
    }
    CHECK_THROWS_AS(store::refuse_output_on_set_storage((dir / "missing" / ".." / "x").string(), sets),
                    util::UsageError);
}

TEST_CASE("a future path resolves its existing part") {
    test::TempDir dir;
    fs::create_directories(dir / "a");
    const std::string base = fs::canonical(dir.path()).string();
    CHECK(store::resolved_future_path((dir / "a" / "b" / "c").string()) == base + "/a/b/c");
    CHECK(store::resolved_future_path((dir / "a" / ".." / "a").string()) == base + "/a");
    CHECK(store::resolved_future_path((dir / "a" / "./b/").string()) == base + "/a/b");
}
