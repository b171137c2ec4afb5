// Where an instant restore may put the restored domain's images: never on
// the backup's own storage (the set's domain directory or inside it),
// however the path is spelt; and what --finish reads of those images before
// a QEMU tool follows their headers.

#include "image/backed_image.hpp"
#include "store/instant_output.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

#include <filesystem>

#include <unistd.h>

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

TEST_CASE("--finish reads an instant restore's image header before any QEMU tool follows it") {
    test::TempDir dir;
    const std::string set_image = (dir / "set.raw").string();
    const std::string host_file = (dir / "host-file").string();
    util::run_checked({"qemu-img", "create", "-q", "-f", "raw", set_image, "1M"});
    util::run_checked({"qemu-img", "create", "-q", "-f", "raw", host_file, "1M"});
    const std::string image = (dir / "vda.qcow2").string();
    const store::InstantRecord::Disk disk{"vda", image, set_image, "raw"};

    image::create_backed_image(image, set_image, "raw");
    CHECK_NOTHROW(store::check_instant_image(disk));
    // Another backing format than recorded: refused.
    CHECK_THROWS_AS(store::check_instant_image({"vda", image, set_image, "qcow2"}), util::InputError);

    // Put in its place: an image naming a host file.
    REQUIRE(::unlink(image.c_str()) == 0);
    image::create_backed_image(image, host_file, "raw");
    CHECK_THROWS_WITH_AS(store::check_instant_image(disk), doctest::Contains("host-file"), util::InputError);

    // A link in its place, even to the right image.
    REQUIRE(::unlink(image.c_str()) == 0);
    const std::string elsewhere = (dir / "elsewhere.qcow2").string();
    image::create_backed_image(elsewhere, set_image, "raw");
    REQUIRE(::symlink(elsewhere.c_str(), image.c_str()) == 0);
    CHECK_THROWS_AS(store::check_instant_image(disk), util::InputError);

    // Standalone (the pull done, the backing file dropped): nothing to follow.
    REQUIRE(::unlink(image.c_str()) == 0);
    util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", image, "1M"});
    CHECK_NOTHROW(store::check_instant_image(disk));
}
