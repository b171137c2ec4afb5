// virtsnap-backup --synthetic-full: an incremental set replaced by a
// standalone full of the same point, the sets above it still valid, the
// sets below it left to retention; a run killed at any step leaves every
// restore point restorable, and the next run puts the rest right.

#include "chain_sets.hpp"
#include "copy/disk_copy.hpp"
#include "copy/output_files.hpp"
#include "job/restore_disks.hpp"
#include "job/retention.hpp"
#include "job/synthetic_full.hpp"
#include "store/domain_lock.hpp"
#include "store/set_block_sums.hpp"
#include "store/set_images.hpp"
#include "store/set_layout.hpp"
#include "store/set_pin.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"
#include "verify/backup_verification.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <sys/wait.h>
#include <unistd.h>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

const std::string f_id = test::chain_set_id(1);
const std::string i1_id = test::chain_set_id(2);
const std::string i2_id = test::chain_set_id(3);
const std::string i3_id = test::chain_set_id(4);

const util::Log quiet("test", util::Verbosity::quiet);

// A full kept as a chain of two files, then three incrementals.
void make_chain(test::ChainSets& sets) {
    sets.add_full(f_id, {"write -P 0x61 0 256k", "write -P 0x62 2M 64k"}, true);
    sets.add_inc(i1_id, f_id, {"write -P 0x5a 64k 64k", "write -z 2M 64k"});
    sets.add_inc(i2_id, i1_id, {"write -P 0x33 3M 4k", "write -P 0x34 0 4k"});
    sets.add_inc(i3_id, i2_id, {"write -P 0x44 1M 8k"});
}

store::DomainLock lock_of(const test::TempDir& dir) {
    return store::DomainLock::acquire((dir / "state").string(), test::chain_domain_uuid, "web");
}

// Restores vda of the set as virtsnap-restore does (every layer of its
// chain checked first); returns its content.
std::string restored(const test::TempDir& dir, const test::ChainSets& sets, const std::string& id) {
    static int count = 0;
    const store::BackupSet set = store::read_set(sets.set_dir(id).string());
    const std::vector<store::DiskChain> chains = store::check_set_images(set, {&set.manifest->disks.front()});
    const fs::path out = dir / ("restored-" + std::to_string(++count));
    fs::create_directory(out);
    copy::OutputFiles outputs(out.string());
    job::rebuild_disk(chains.front(), "raw", outputs, quiet);
    outputs.publish_all(false);
    return test::read_file(out / "vda.raw");
}

// virtsnap-verify --checksums --qemu-checksums --chain of the set.
void verify_set(const test::ChainSets& sets, const std::string& id) {
    xml::Manifest manifest = *store::read_set(sets.set_dir(id).string()).manifest;
    verify::VerifySettings settings;
    settings.dir = sets.set_dir(id).string();
    settings.checksums = true;
    settings.qemu_checksums = true;
    settings.chain = true;
    verify::verify_backup(manifest, settings, quiet);
}

xml::Manifest manifest_of(const test::ChainSets& sets, const std::string& id) {
    return *store::read_set(sets.set_dir(id).string()).manifest;
}

// What a real full of the set's point records of vda (its reference
// image copied as virtsnap-backup copies a disk into a full set), and its
// block sums file.
std::pair<xml::DiskBackup, std::string> real_full(const test::TempDir& dir, const std::string& id) {
    const fs::path out = dir / ("real-full-" + id);
    fs::create_directory(out);
    copy::OutputFiles outputs(out.string());
    copy::DiskCopyRequest request;
    request.target = "vda";
    request.virtual_size = test::chain_disk_size;
    request.chain.push_back({(dir / ("reference-" + id + ".qcow2")).string(), "qcow2"});
    copy::CopySettings settings;
    settings.block_sums = true;
    xml::DiskBackup backup = copy::copy_disk(request, settings, outputs, quiet);
    outputs.publish_all(false);
    return {backup, test::read_file(out / "vda.blocks")};
}

// Every name in the domain directory.
std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

TEST_CASE("a synthetic full is the same point as the incremental set it replaces, and its children stay "
          "valid") {
    for (const bool exchange : {true, false}) {
        CAPTURE(exchange);
        test::TempDir dir;
        test::ChainSets sets(dir);
        make_chain(sets);
        const xml::Manifest before = manifest_of(sets, i2_id);
        test::write_file(sets.set_dir(i2_id) / store::set_domain_xml_file, "<domain type='kvm'/>\n");
        const store::DomainLock lock = lock_of(dir);
        job::SyntheticFullSettings settings;
        settings.exchange = exchange;
        job::make_synthetic_full(lock, sets.set_dir(i2_id).string(), settings, quiet);

        // The same point, as a full: same id, time, domain and disk.
        const xml::Manifest after = manifest_of(sets, i2_id);
        CHECK(after.level == "full");
        CHECK(after.parent.empty());
        CHECK(after.level_reason ==
              "synthetic full: merged from sets " + f_id + ".." + i2_id + " (--synthetic-full)");
        CHECK(after.snapshot_id == before.snapshot_id);
        CHECK(after.snapshot_time == before.snapshot_time);
        CHECK(after.domain_uuid == before.domain_uuid);
        REQUIRE(after.disks.size() == 1);
        const xml::ManifestDisk& disk = after.disks.front();
        CHECK(disk.target == "vda");
        CHECK(disk.frozen == before.disks.front().frozen);
        CHECK(disk.virtual_size == before.disks.front().virtual_size);
        REQUIRE(disk.backup);
        CHECK(disk.backup->flattened);
        CHECK(disk.backup->format == "qcow2");
        CHECK(disk.backup->chunk_size == before.disks.front().backup->chunk_size);
        REQUIRE(disk.backup->files.size() == 1);
        CHECK(disk.backup->files.front().name == "vda.qcow2");
        CHECK(disk.backup->files.front().backing.empty());
        CHECK(disk.backup->files.front().backing_set.empty());
        REQUIRE(disk.verifications.size() == 2);
        CHECK(disk.verifications[0].kind == "source");
        CHECK(disk.verifications[0].result == "ok");
        CHECK(disk.verifications[0].detail ==
              "identical to the chain of sets " + f_id + ".." + i2_id + " it was made of");
        CHECK(disk.verifications[1].kind == "image");
        CHECK(disk.verifications[1].result == "ok");
        const std::string info =
            util::run_checked({"qemu-img", "info", (sets.set_dir(i2_id) / "vda.qcow2").string()}).out;
        CHECK(info.find("backing file") == std::string::npos);
        // Its checksums and block sums are those a real full of the same
        // point records.
        const auto [real, real_sums] = real_full(dir, i2_id);
        CHECK(disk.backup->files.front().checksum == real.files.front().checksum);
        CHECK(disk.backup->files.front().data_bytes == real.files.front().data_bytes);
        REQUIRE(disk.backup->files.front().chunks.size() == real.files.front().chunks.size());
        for (std::size_t c = 0; c < real.files.front().chunks.size(); ++c)
            CHECK(disk.backup->files.front().chunks[c].hash == real.files.front().chunks[c].hash);
        REQUIRE(disk.backup->block_sums);
        CHECK(disk.backup->block_sums->checksum == real.block_sums->checksum);
        CHECK(test::read_file(sets.set_dir(i2_id) / "vda.blocks") == real_sums);
        CHECK(store::read_block_sums(sets.set_dir(i2_id).string(), disk).digests().size() ==
              image::block_sum_count(test::chain_disk_size));

        // It reads, restores and verifies as the point it was; so does the
        // set above it, whose layer now hangs on it.
        CHECK(sets.content(i2_id) == sets.expected(i2_id));
        CHECK(restored(dir, sets, i2_id) == sets.expected(i2_id));
        CHECK(restored(dir, sets, i3_id) == sets.expected(i3_id));
        verify_set(sets, i2_id);
        verify_set(sets, i3_id);
        // Nothing is left beside the sets.
        CHECK(names_in(sets.domain_dir()) == std::vector<std::string>{f_id, i1_id, i2_id, i3_id});
        CHECK(names_in(sets.set_dir(i2_id)) ==
              std::vector<std::string>{"complete", "domain.xml", "manifest.xml", "vda.blocks", "vda.qcow2"});
        CHECK(test::read_file(sets.set_dir(i2_id) / store::set_domain_xml_file) == "<domain type='kvm'/>\n");
        // The sets below it are no longer needed by any kept set.
        CHECK(job::apply_retention(sets.domain_dir().string(), 2, i3_id, quiet, {i3_id}) == 2);
        CHECK(names_in(sets.domain_dir()) == std::vector<std::string>{i2_id, i3_id});
        CHECK(restored(dir, sets, i2_id) == sets.expected(i2_id));
        CHECK(restored(dir, sets, i3_id) == sets.expected(i3_id));
        verify_set(sets, i3_id);
    }
}

TEST_CASE("--keep with --synthetic-full keeps N restore points and no set below them") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    make_chain(sets);
    const store::DomainLock lock = lock_of(dir);
    const std::string domain_dir = sets.domain_dir().string();
    // Keep 2: i2 and i3; i2 becomes a full, f and i1 go.
    CHECK(job::merge_oldest_kept(lock, domain_dir, 2, i3_id, {i3_id}, {}, quiet) == i2_id);
    sets.made_full(i2_id);
    CHECK(job::apply_retention(domain_dir, 2, i3_id, quiet, {i3_id}) == 2);
    CHECK(names_in(sets.domain_dir()) == std::vector<std::string>{i2_id, i3_id});
    // Nothing more to do until the next set.
    CHECK(job::merge_oldest_kept(lock, domain_dir, 2, i3_id, {i3_id}, {}, quiet).empty());
    // The next inc: i3 becomes a full of its own, on a synthetic full.
    const std::string i4_id = test::chain_set_id(5);
    sets.add_inc(i4_id, i3_id, {"write -P 0x55 3M 64k"});
    CHECK(job::merge_oldest_kept(lock, domain_dir, 2, i4_id, {i4_id}, {}, quiet) == i3_id);
    sets.made_full(i3_id);
    CHECK(manifest_of(sets, i3_id).level_reason ==
          "synthetic full: merged from sets " + i2_id + ".." + i3_id + " (--synthetic-full)");
    CHECK(job::apply_retention(domain_dir, 2, i4_id, quiet, {i4_id}) == 1);
    CHECK(names_in(sets.domain_dir()) == std::vector<std::string>{i3_id, i4_id});
    CHECK(restored(dir, sets, i3_id) == sets.expected(i3_id));
    CHECK(restored(dir, sets, i4_id) == sets.expected(i4_id));
    verify_set(sets, i4_id);
    // The set the change record continues is never merged.
    CHECK(job::merge_oldest_kept(lock, domain_dir, 1, i4_id, {i4_id}, {}, quiet).empty());
}

TEST_CASE("a set a reader pins, or one below it, is neither made a full nor removed while pinned") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    make_chain(sets);
    const store::DomainLock lock = lock_of(dir);
    const std::string domain_dir = sets.domain_dir().string();
    {
        // virtsnap-mount of i1 pins i1 and the full below it.
        const store::SetPin mounted({sets.set_dir(i1_id).string(), sets.set_dir(f_id).string()});
        CHECK(job::merge_oldest_kept(lock, domain_dir, 2, i3_id, {i3_id}, {}, quiet).empty());
        CHECK(manifest_of(sets, i2_id).level == "inc");
        CHECK(job::apply_retention(domain_dir, 2, i3_id, quiet, {i3_id}) == 0);
        CHECK(names_in(sets.domain_dir()) == std::vector<std::string>{f_id, i1_id, i2_id, i3_id});
    }
    // Unmounted: the next run makes i2 a full and removes what is below.
    CHECK(job::merge_oldest_kept(lock, domain_dir, 2, i3_id, {i3_id}, {}, quiet) == i2_id);
    CHECK(job::apply_retention(domain_dir, 2, i3_id, quiet, {i3_id}) == 2);
    CHECK(names_in(sets.domain_dir()) == std::vector<std::string>{i2_id, i3_id});
}

TEST_CASE("a reader that pins the set while its full is built keeps it as it was; one that read it before is "
          "refused") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    make_chain(sets);
    const store::DomainLock lock = lock_of(dir);
    const std::string k = sets.set_dir(i2_id).string();
    const xml::Manifest before = manifest_of(sets, i2_id);
    {
        const store::SetPin reading({k});
        CHECK_FALSE(job::make_synthetic_full(lock, k, {}, quiet));
        CHECK(manifest_of(sets, i2_id).level == "inc");
        CHECK(names_in(sets.domain_dir()) == std::vector<std::string>{f_id, i1_id, i2_id, i3_id});
    }
    CHECK(job::make_synthetic_full(lock, k, {}, quiet));
    sets.made_full(i2_id);
    CHECK(manifest_of(sets, i2_id).level == "full");
    // A restore that read the inc's manifest before the swap must not read
    // the full's files as the inc's.
    CHECK_THROWS_WITH_AS(store::pin_chain(k, before),
                         doctest::Contains("was replaced while it was being opened"), util::RefusedError);
    const store::SetPin now = store::pin_chain(k, manifest_of(sets, i2_id));
    CHECK(restored(dir, sets, i2_id) == sets.expected(i2_id));
}

TEST_CASE("a synthetic full that cannot be made leaves everything as it was") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    make_chain(sets);
    const store::DomainLock lock = lock_of(dir);
    const std::string before = test::read_file(sets.set_dir(i2_id) / store::set_manifest_file);

    SUBCASE("a layer below differs from its checksums") {
        util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0x77 64k 4k",
                           (sets.set_dir(i1_id) / "vda.qcow2").string()});
        CHECK_THROWS_WITH_AS(
            job::merge_oldest_kept(lock, sets.domain_dir().string(), 2, i3_id, {i3_id}, {}, quiet),
            doctest::Contains(("--synthetic-full left backup set '" + sets.set_dir(i2_id).string() +
                               "' as it was (the new set " + i3_id + " is complete): disk 'vda' in set " +
                               i1_id + ": checksum mismatch")
                                  .c_str()),
            util::VerificationMismatch);
    }
    SUBCASE("a set below is missing") {
        fs::rename(sets.set_dir(f_id), dir / "elsewhere");
        CHECK_THROWS_WITH_AS(job::make_synthetic_full(lock, sets.set_dir(i2_id).string(), {}, quiet),
                             doctest::Contains(("the parent set " + f_id).c_str()), util::InputError);
    }
    SUBCASE("a full is not merged") {
        CHECK_THROWS_AS(job::make_synthetic_full(lock, sets.set_dir(f_id).string(), {}, quiet),
                        util::RefusedError);
        CHECK(restored(dir, sets, i3_id) == sets.expected(i3_id));
    }
    SUBCASE("a work directory in the way (the next run removes it first)") {
        fs::create_directory(sets.domain_dir() / store::synthetic_work_name(i2_id));
        test::write_file(sets.domain_dir() / store::synthetic_work_name(i2_id) / "vda.qcow2.partial", "x");
        CHECK_THROWS_AS(job::make_synthetic_full(lock, sets.set_dir(i2_id).string(), {}, quiet),
                        util::SystemError);
        CHECK(fs::exists(sets.domain_dir() / store::synthetic_work_name(i2_id) / "vda.qcow2.partial"));
        job::finish_synthetic_fulls(lock, sets.domain_dir().string(), quiet);
        CHECK_FALSE(fs::exists(sets.domain_dir() / store::synthetic_work_name(i2_id)));
        CHECK(restored(dir, sets, i3_id) == sets.expected(i3_id));
    }
    // The set as it was, and nothing left beside the sets.
    CHECK(test::read_file(sets.set_dir(i2_id) / store::set_manifest_file) == before);
    for (const std::string& name : names_in(sets.domain_dir()))
        CHECK(store::is_set_id(name));
}

TEST_CASE("a synthetic full killed at any step leaves every restore point restorable") {
    struct Kill {
        const char* point;
        bool exchange;
    };
    for (const Kill kill : {Kill{"synthetic-started", true}, Kill{"synthetic-copied", true},
                            Kill{"synthetic-complete", true}, Kill{"synthetic-swapped", true},
                            Kill{"synthetic-moved-aside", false}, Kill{"synthetic-swapped", false}}) {
        CAPTURE(kill.point);
        CAPTURE(kill.exchange);
        test::TempDir dir;
        test::ChainSets sets(dir);
        make_chain(sets);
        const store::DomainLock lock = lock_of(dir);
        job::SyntheticFullSettings settings;
        settings.exchange = kill.exchange;
        // The run in a child that stops itself at the point, and is killed
        // there (as tb_kill_at does to a tool).
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            ::setenv("VIRTSNAP_PAUSE_AT", kill.point, 1);
            try {
                job::make_synthetic_full(lock, sets.set_dir(i2_id).string(), settings, quiet);
            } catch (...) {
                ::_exit(1);
            }
            ::_exit(0);
        }
        int status = 0;
        REQUIRE(::waitpid(child, &status, WUNTRACED) == child);
        REQUIRE(WIFSTOPPED(status));
        ::kill(child, SIGKILL);
        REQUIRE(::waitpid(child, &status, 0) == child);

        const bool set_missing = !fs::exists(sets.set_dir(i2_id));
        CHECK(set_missing == (std::string(kill.point) == "synthetic-moved-aside"));
        if (!set_missing) {
            // Every restore point reads as it was, already.
            for (const std::string& id : {f_id, i1_id, i2_id, i3_id})
                CHECK(restored(dir, sets, id) == sets.expected(id));
            verify_set(sets, i3_id);
        }
        // The next run puts the rest right: nothing beside the sets, every
        // point restorable and verifiable.
        job::finish_synthetic_fulls(lock, sets.domain_dir().string(), quiet);
        CHECK(names_in(sets.domain_dir()) == std::vector<std::string>{f_id, i1_id, i2_id, i3_id});
        for (const std::string& id : {f_id, i1_id, i2_id, i3_id})
            CHECK(restored(dir, sets, id) == sets.expected(id));
        verify_set(sets, i3_id);
        // A full once the swap was made (or finished now), else still the inc.
        const bool swapped = std::string(kill.point) == "synthetic-swapped" ||
                             std::string(kill.point) == "synthetic-moved-aside";
        CHECK(manifest_of(sets, i2_id).level == (swapped ? "full" : "inc"));
        // And the merge can be made (again).
        if (!swapped)
            job::make_synthetic_full(lock, sets.set_dir(i2_id).string(), settings, quiet);
        CHECK(manifest_of(sets, i2_id).level == "full");
        CHECK(restored(dir, sets, i3_id) == sets.expected(i3_id));
    }
}

TEST_CASE("a diff set becomes a full of the same point, and the inc above it stays valid") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(f_id, {"write -P 0x61 0 256k"});
    // A diff is laid out as an inc on the chain's full; only its level differs.
    xml::Manifest diff = sets.add_inc(i1_id, f_id, {"write -P 0x5a 64k 64k", "write -z 0 4k"});
    diff.level = "diff";
    diff.by_content = true; // taken by content: its full is not
    sets.write_manifest(i1_id, diff);
    sets.add_inc(i2_id, i1_id, {"write -P 0x33 3M 4k"});
    const store::DomainLock lock = lock_of(dir);
    CHECK(job::merge_oldest_kept(lock, sets.domain_dir().string(), 2, i2_id, {i2_id}, {}, quiet) == i1_id);
    sets.made_full(i1_id);
    CHECK(manifest_of(sets, i1_id).level == "full");
    CHECK_FALSE(manifest_of(sets, i1_id).by_content);
    CHECK(job::apply_retention(sets.domain_dir().string(), 2, i2_id, quiet, {i2_id}) == 1);
    CHECK(names_in(sets.domain_dir()) == std::vector<std::string>{i1_id, i2_id});
    CHECK(restored(dir, sets, i1_id) == sets.expected(i1_id));
    CHECK(restored(dir, sets, i2_id) == sets.expected(i2_id));
    verify_set(sets, i2_id);
}
