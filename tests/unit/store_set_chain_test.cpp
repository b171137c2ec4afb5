// An incremental set's disk is a layer over its parent set's image. The
// chain of sets is input from outside: every parent is found only beside
// the set, by its id, never through a link, complete, whole and of the same
// domain and disk, and every image header names exactly what the manifests
// record.

#include "chain_sets.hpp"
#include "store/backup_set.hpp"
#include "store/set_chain.hpp"
#include "store/set_images.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

#include <filesystem>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

const std::string full_id = test::chain_set_id(1);
const std::string inc1_id = test::chain_set_id(2);
const std::string inc2_id = test::chain_set_id(3);

std::vector<std::string> names(const xml::DiskBackup& backup) {
    std::vector<std::string> out;
    for (const xml::BackupFile& file : backup.files)
        out.push_back(file.name);
    return out;
}

store::DiskChain chain_of(const test::ChainSets& sets, const std::string& id) {
    const store::BackupSet set = store::read_set(sets.set_dir(id).string());
    return store::check_set_images(set, {&set.manifest->disks.front()}).front();
}

void check_refused(const test::ChainSets& sets, const std::string& id, const std::string& expected) {
    CAPTURE(expected);
    CHECK_THROWS_WITH_AS(chain_of(sets, id), doctest::Contains(expected.c_str()), util::InputError);
}

// Refused by disk_chain, before any image is opened: store::ChainCheck (what
// virtsnap-list uses) says the same.
void check_chain_refused(const test::ChainSets& sets, const std::string& id, const std::string& expected) {
    check_refused(sets, id, expected);
    const store::BackupSet set = store::read_set(sets.set_dir(id).string());
    store::ChainCheck chains;
    const std::string problem = chains.problem(set.path, *set.manifest);
    CHECK(problem.find(expected) != std::string::npos);
    CHECK_THROWS_WITH_AS(store::disk_chain(set.path, *set.manifest, set.manifest->disks.front()),
                         problem.c_str(), util::InputError);
}

// A full set, an incremental on it and another on that.
struct ThreeSets {
    test::TempDir dir;
    test::ChainSets sets{dir};
    xml::Manifest full = sets.add_full(full_id, {"write -P 0x61 0 256k", "write -P 0x62 2M 64k"});
    xml::Manifest inc1 = sets.add_inc(inc1_id, full_id, {"write -P 0x5a 64k 64k", "write -z 2M 64k"});
    xml::Manifest inc2 = sets.add_inc(inc2_id, inc1_id, {"write -P 0x33 3M 4k"});

    void rewrite(const std::string& id, xml::Manifest manifest) const { sets.write_manifest(id, manifest); }
};

} // namespace

TEST_CASE("an incremental set's disk is one chain through its parent sets, named from its directory") {
    ThreeSets t;
    const store::DiskChain chain = chain_of(t.sets, inc2_id);
    REQUIRE(chain.sets.size() == 3);
    CHECK(chain.incremental());
    CHECK(chain.sets[1].id == inc1_id);
    CHECK(chain.sets[2].id == full_id);
    CHECK(chain.sets[2].path == (t.sets.domain_dir() / full_id).string());
    const xml::DiskBackup backup = chain.backup();
    CHECK(names(backup) == std::vector<std::string>{"vda.qcow2", "../" + inc1_id + "/vda.qcow2",
                                                    "../" + full_id + "/vda.qcow2"});
    CHECK_FALSE(backup.flattened);
    CHECK(store::header_backing(backup.files[0]) == "../" + inc1_id + "/vda.qcow2");
    CHECK(store::header_backing(backup.files[2]).empty());
    // Seen from the set below: its own files first; the bottom as recorded.
    CHECK(names(chain.backup(1)) == std::vector<std::string>{"vda.qcow2", "../" + full_id + "/vda.qcow2"});
    CHECK(chain.backup(2).flattened);
    CHECK(chain.paths().at(1) == t.sets.set_dir(inc2_id).string() + "/../" + inc1_id + "/vda.qcow2");
    // What the files hold: the restore point through the whole chain.
    CHECK(t.sets.content(inc2_id) == t.sets.expected(inc2_id));
    CHECK(store::parent_sets(t.sets.set_dir(inc2_id).string(), t.inc2).size() == 2);

    // A full set is a chain of itself alone.
    const store::DiskChain alone = chain_of(t.sets, full_id);
    CHECK_FALSE(alone.incremental());
    CHECK(names(alone.backup()) == std::vector<std::string>{"vda.qcow2"});
    CHECK(store::parent_sets(t.sets.set_dir(full_id).string(), t.full).empty());
}

TEST_CASE("an incremental set on a kept chain reaches every layer of it") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(full_id, {"write -P 0x61 0 64k"}, true);
    sets.add_inc(inc1_id, full_id, {"write -P 0x5a 1M 4k"});
    const store::DiskChain chain = chain_of(sets, inc1_id);
    CHECK(names(chain.backup()) == std::vector<std::string>{"vda.qcow2", "../" + full_id + "/vda.qcow2",
                                                            "../" + full_id + "/vda.1.qcow2"});
    CHECK(store::header_backing(chain.backup().files[1]) == "vda.1.qcow2");
    CHECK(sets.content(inc1_id) == sets.expected(inc1_id));
}

TEST_CASE("a parent set that is missing, a link, incomplete or damaged is refused, naming it") {
    SUBCASE("missing") {
        ThreeSets t;
        fs::remove_all(t.sets.set_dir(inc1_id));
        check_chain_refused(t.sets, inc2_id, "the parent set " + inc1_id + " of backup set");
        check_chain_refused(t.sets, inc2_id, "is missing");
    }
    SUBCASE("a symbolic link to a set elsewhere") {
        ThreeSets t;
        fs::rename(t.sets.set_dir(inc1_id), t.dir / "elsewhere");
        fs::create_directory_symlink(t.dir / "elsewhere", t.sets.set_dir(inc1_id));
        check_chain_refused(t.sets, inc2_id, "is a symbolic link");
    }
    SUBCASE("incomplete") {
        ThreeSets t;
        fs::remove(t.sets.set_dir(full_id) / "complete");
        check_chain_refused(t.sets, inc2_id, "the parent set " + full_id);
        check_chain_refused(t.sets, inc2_id, "is incomplete");
    }
    SUBCASE("its manifest missing or damaged") {
        ThreeSets t;
        test::write_file(t.sets.set_dir(inc1_id) / "manifest.xml", "<virtsnap-manifest");
        check_chain_refused(t.sets, inc2_id, "is damaged");
        fs::remove(t.sets.set_dir(inc1_id) / "manifest.xml");
        check_chain_refused(t.sets, inc2_id, "its manifest is missing");
    }
    SUBCASE("its manifest a link") {
        ThreeSets t;
        fs::rename(t.sets.set_dir(inc1_id) / "manifest.xml", t.dir / "manifest.xml");
        fs::create_symlink(t.dir / "manifest.xml", t.sets.set_dir(inc1_id) / "manifest.xml");
        check_chain_refused(t.sets, inc2_id, "is damaged");
    }
    SUBCASE("a set directory holding another set's manifest") {
        ThreeSets t;
        xml::Manifest moved = t.inc1;
        moved.snapshot_id = "20261101-000000-000-0009";
        moved.snapshot_time = "2026-11-01T00:00:00Z";
        t.rewrite(inc1_id, moved);
        check_chain_refused(t.sets, inc2_id, "its manifest records the set");
    }
}

TEST_CASE("a parent set of another domain, without the disk, or with it resized is refused") {
    SUBCASE("another domain") {
        ThreeSets t;
        xml::Manifest other = t.full;
        other.domain_uuid = "00000000-8d0a-4b1e-9a59-2d6d7e6a1c11";
        t.rewrite(full_id, other);
        check_chain_refused(t.sets, inc2_id, "a backup of another domain");
    }
    SUBCASE("without the disk") {
        ThreeSets t;
        xml::Manifest other = t.inc1;
        other.disks.front().target = "vdb";
        other.disks.front().backup->files.front().name = "vdb.qcow2";
        other.disks.front().backup->files.front().backing = "vdb.qcow2";
        t.rewrite(inc1_id, other);
        check_chain_refused(t.sets, inc2_id, "holds no backup of disk 'vda'");
    }
    SUBCASE("resized") {
        ThreeSets t;
        xml::Manifest other = t.full;
        other.disks.front().virtual_size = 8 << 20;
        t.rewrite(full_id, other);
        check_chain_refused(t.sets, inc2_id, "a resized disk starts a new chain");
    }
    SUBCASE("other checksum chunks") {
        ThreeSets t;
        xml::Manifest other = t.full;
        other.disks.front().backup->chunk_size = 1 << 20;
        t.rewrite(full_id, other);
        check_chain_refused(t.sets, inc1_id, "in chunks of");
    }
    SUBCASE("raw") {
        ThreeSets t;
        xml::Manifest other = t.full;
        other.disks.front().backup->format = "raw";
        other.disks.front().backup->files.front().name = "vda.raw";
        t.rewrite(full_id, other);
        check_chain_refused(t.sets, inc1_id, "only ever backed by a qcow2 image");
    }
}

TEST_CASE("ChainCheck: a set's chain holds when disk_chain accepts it; each set below is read once") {
    ThreeSets t;
    store::ChainCheck chains;
    for (const auto& [id, manifest] : {std::pair{inc2_id, t.inc2}, {inc1_id, t.inc1}, {full_id, t.full}})
        CHECK(chains.problem(t.sets.set_dir(id).string(), manifest).empty());
    // The answers stand for the check's life: one listing reads each set
    // below once, however many sets above it there are.
    fs::remove_all(t.sets.set_dir(full_id));
    CHECK(chains.problem(t.sets.set_dir(inc2_id).string(), t.inc2).empty());
    // A new check sees the set gone, for every set above it.
    store::ChainCheck again;
    for (const auto& [id, manifest] : {std::pair{inc1_id, t.inc1}, {inc2_id, t.inc2}}) {
        const std::string problem = again.problem(t.sets.set_dir(id).string(), manifest);
        CHECK(problem.find("the parent set " + full_id + " of backup set") != std::string::npos);
        CHECK(problem.find("is missing") != std::string::npos);
    }
}

TEST_CASE("an incremental layer's header must name exactly its parent set's image") {
    for (const std::string& backing :
         {std::string("../20261101-000000-000-0009/vda.qcow2"), std::string("../elsewhere/vda.qcow2"),
          std::string("vda.qcow2"), std::string("/etc/shadow"),
          std::string(
              "json:{\"driver\":\"raw\",\"file\":{\"driver\":\"file\",\"filename\":\"/etc/shadow\"}}")}) {
        CAPTURE(backing);
        ThreeSets t;
        util::run_checked({"qemu-img", "rebase", "-u", "-f", "qcow2", "-F", "qcow2", "-b", backing,
                           (t.sets.set_dir(inc2_id) / "vda.qcow2").string()});
        check_refused(t.sets, inc2_id, "but the manifest records '../" + inc1_id + "/vda.qcow2'");
    }
}

TEST_CASE("every layer below an incremental set's is checked as strictly as its own") {
    {
        ThreeSets t;
        util::run_checked({"qemu-img", "rebase", "-u", "-f", "qcow2", "-F", "qcow2", "-b", "/etc/shadow",
                           (t.sets.set_dir(inc1_id) / "vda.qcow2").string()});
        check_refused(t.sets, inc2_id, "backup file '" + t.sets.set_dir(inc2_id).string() + "/../" + inc1_id);
        // An image of the set below that is a link.
        ThreeSets u;
        const fs::path image = u.sets.set_dir(full_id) / "vda.qcow2";
        fs::rename(image, u.dir / "moved.qcow2");
        fs::create_symlink(u.dir / "moved.qcow2", image);
        check_refused(u.sets, inc2_id, "is a symbolic link");
    }
}
