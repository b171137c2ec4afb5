// virtsnap-restore DOMAIN_DIR --until SET_ID: the set is found only as a
// directory by its id directly inside the domain's directory, never through
// a link, and never from a path the id would make; a set's own directory
// given with --until is a mistake of the command line, not a set.

#include "chain_sets.hpp"
#include "job/restore_point.hpp"
#include "store/backup_set.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <sys/stat.h>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

const util::Log quiet("test", util::Verbosity::quiet);

const std::string id1 = test::chain_set_id(1), id2 = test::chain_set_id(2), id3 = test::chain_set_id(3);

} // namespace

TEST_CASE("--until SET_ID: the set directory of that id in the domain's directory, resolved") {
    test::TempDir dir;
    fs::create_directories(dir / "web" / id1);
    fs::create_directory_symlink(dir / "web", dir / "link-to-web");
    const std::string resolved = fs::canonical(dir.path()).string() + "/web/" + id1;
    CHECK(job::restore_point((dir / "web").string(), id1, quiet) == resolved);
    CHECK(job::restore_point((dir / "web/").string(), id1, quiet) == resolved);
    // The domain's directory, like a set given directly, may be reached
    // through a link; the set itself may not.
    CHECK(job::restore_point((dir / "link-to-web").string(), id1, quiet) == resolved);
}

TEST_CASE("--until: a value that is not a set id is a usage error, whatever is on disk") {
    test::TempDir dir;
    fs::create_directories(dir / "web" / id1);
    fs::create_directories(dir / "web" / "sub" / id1);
    for (const std::string& bad :
         {std::string(""), std::string(".."), std::string("."), std::string("../web/" + id1),
          std::string("sub/" + id1), std::string(id1 + "/"), std::string("/" + id1), std::string(id1 + "\n"),
          std::string("20261101-000000-000-00\x1b]"), std::string("20261101-000000-000-000"),
          std::string("Latest"), std::string("latest/")}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(job::restore_point((dir / "web").string(), bad, quiet), util::UsageError);
    }
    // Control characters are escaped in the message.
    CHECK_THROWS_WITH(job::restore_point((dir / "web").string(), "x\x1b[2J", quiet),
                      doctest::Contains("'x\\x1b[2J' is neither a set id"));
}

TEST_CASE("--until: a set's own directory given instead of the domain's is a usage error") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(id1, {});
    CHECK_THROWS_WITH_AS(job::restore_point(sets.set_dir(id1).string(), id1, quiet),
                         doctest::Contains("is a backup set, not a domain's directory of sets"),
                         util::UsageError);
    // An incomplete one too (only its marker, or only its manifest).
    fs::remove(sets.set_dir(id1) / "manifest.xml");
    CHECK_THROWS_AS(job::restore_point(sets.set_dir(id1).string(), "latest", quiet), util::UsageError);
}

TEST_CASE("--until: a missing set, a link, a file or a FIFO by that id is bad input") {
    test::TempDir dir;
    fs::create_directories(dir / "web");
    fs::create_directories(dir / "elsewhere" / id2);
    const std::string web = (dir / "web").string();
    CHECK_THROWS_WITH_AS(job::restore_point(web, id1, quiet),
                         doctest::Contains(("holds no backup set " + id1).c_str()), util::InputError);
    fs::create_directory_symlink(dir / "elsewhere" / id2, dir / "web" / id2);
    CHECK_THROWS_WITH_AS(job::restore_point(web, id2, quiet), doctest::Contains("is a symbolic link"),
                         util::InputError);
    test::write_file(dir / "web" / id3, "");
    CHECK_THROWS_WITH_AS(job::restore_point(web, id3, quiet), doctest::Contains("is not a directory"),
                         util::InputError);
    const std::string fifo = web + "/" + test::chain_set_id(4);
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS(job::restore_point(web, test::chain_set_id(4), quiet),
                         doctest::Contains("is not a directory"), util::InputError);
    // No domain directory at all, or a file in its place.
    CHECK_THROWS_AS(job::restore_point((dir / "nothing").string(), id1, quiet), util::InputError);
    CHECK_THROWS_AS(job::restore_point(web + "/" + id3, id1, quiet), util::InputError);
}

TEST_CASE("--until latest: the newest complete set whose chain holds and whose checks passed") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    const std::string web = sets.domain_dir().string();
    const std::string root = fs::canonical(sets.domain_dir()).string() + "/";
    CHECK_THROWS_WITH_AS(job::restore_point(web, "latest", quiet),
                         doctest::Contains("holds no complete backup set"), util::InputError);
    sets.add_full(id1, {"write -P 0x61 0 64k"});
    xml::Manifest inc = sets.add_inc(id2, id1, {"write -P 0x62 64k 4k"});
    sets.add_inc(id3, id2, {"write -P 0x63 1M 4k"});
    CHECK(job::restore_point(web, "latest", quiet) == root + id3);

    // A newer incomplete set, and one that failed a check, are passed over.
    fs::create_directory(sets.set_dir(test::chain_set_id(5)));
    inc.disks.front().verifications.push_back({"source", "mismatch", "chunk 0"});
    sets.write_manifest(id2, inc);
    fs::remove(sets.set_dir(id3) / "complete");
    CHECK(job::restore_point(web, "latest", quiet) == root + id1);

    // An incremental set whose parent is gone is no restore point.
    test::TempDir other;
    test::ChainSets chain(other);
    chain.add_full(id1, {"write -P 0x61 0 64k"});
    chain.add_inc(id2, id1, {"write -P 0x62 64k 4k"});
    chain.add_inc(id3, id2, {"write -P 0x63 1M 4k"});
    fs::rename(chain.set_dir(id2), other / "moved");
    fs::create_directory_symlink(other / "moved", chain.set_dir(id2));
    CHECK(job::restore_point(chain.domain_dir().string(), "latest", quiet) ==
          fs::canonical(chain.domain_dir()).string() + "/" + id1);
}
