// A set's block sums are read as hostile input: the file the manifest
// names, regular, of exactly its disk's length, matching the recorded
// checksum; anything else is refused, saying why.

#include "image/block_sums.hpp"
#include "store/set_block_sums.hpp"
#include "store/set_layout.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <sys/stat.h>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t disk_size = 5 * image::block_sum_size + 512;

struct SetWithSums {
    test::TempDir dir;
    xml::ManifestDisk disk;
    image::BlockSums sums;

    SetWithSums() {
        image::BlockSumsBuilder builder(disk_size);
        const std::string data(4096, 'x');
        builder.add_block(2 * image::block_sum_size, data.data(), data.size());
        sums = builder.finish();
        const std::string bytes = sums.serialize();
        test::write_file(dir / "vda.blocks", bytes);
        disk.target = "vda";
        disk.virtual_size = disk_size;
        disk.backup = xml::DiskBackup{};
        disk.backup->format = "qcow2";
        disk.backup->block_sums = store::block_sums_record(store::block_sums_file_name("vda"), bytes);
    }

    void refused(const std::string& why) const {
        CAPTURE(why);
        CHECK_THROWS_WITH_AS(store::read_block_sums(dir.path().string(), disk),
                             doctest::Contains(why.c_str()), util::InputError);
    }
};

} // namespace

TEST_CASE("a set's block sums are read back as recorded") {
    SetWithSums set;
    CHECK(set.disk.backup->block_sums->name == "vda.blocks");
    CHECK(set.disk.backup->block_sums->block_size == image::block_sum_size);
    const image::BlockSums back = store::read_block_sums(set.dir.path().string(), set.disk);
    CHECK(back.digests() == set.sums.digests());
    CHECK(back.digests()[2] != 0);
}

TEST_CASE("block sums that are missing, damaged or not the recorded file are refused") {
    SetWithSums set;
    SUBCASE("none recorded") {
        set.disk.backup->block_sums.reset();
        set.refused("has no block sums");
    }
    SUBCASE("no file") {
        fs::remove(set.dir / "vda.blocks");
        set.refused("is missing");
    }
    SUBCASE("a byte changed") {
        std::string bytes = test::read_file(set.dir / "vda.blocks");
        bytes[40] ^= 1;
        test::write_file(set.dir / "vda.blocks", bytes);
        set.refused("does not match the checksum");
    }
    SUBCASE("truncated") {
        std::string bytes = test::read_file(set.dir / "vda.blocks");
        test::write_file(set.dir / "vda.blocks", bytes.substr(0, bytes.size() - 8));
        set.refused("does not match the checksum");
    }
    SUBCASE("longer than the disk's sums") {
        test::write_file(set.dir / "vda.blocks", test::read_file(set.dir / "vda.blocks") + "x");
        set.refused("larger than");
    }
    SUBCASE("of a disk of another size, checksum and all") {
        set.disk.virtual_size -= image::block_sum_size;
        set.refused("larger than");
        set.disk.virtual_size += 2 * image::block_sum_size;
        set.refused("is of a disk of");
    }
    SUBCASE("a symbolic link") {
        fs::rename(set.dir / "vda.blocks", set.dir / "elsewhere");
        fs::create_symlink(set.dir / "elsewhere", set.dir / "vda.blocks");
        set.refused("symbolic link");
    }
    SUBCASE("a FIFO") {
        fs::remove(set.dir / "vda.blocks");
        REQUIRE(::mkfifo((set.dir / "vda.blocks").c_str(), 0600) == 0);
        set.refused("FIFO");
    }
    SUBCASE("another name") {
        set.disk.backup->block_sums->name = "vdb.blocks";
        set.refused("not named or sized");
    }
}

TEST_CASE("a set's block sums file is one of the files virtsnap writes into a set") {
    CHECK(store::is_set_file_name("vda.blocks"));
    CHECK(store::is_set_file_name("vda.blocks.partial"));
    CHECK_FALSE(store::is_set_file_name(".blocks"));
    CHECK(store::block_sums_file_name("sda") == "sda.blocks");
}
