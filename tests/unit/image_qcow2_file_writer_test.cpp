// virtsnap's own qcow2 writer, judged by QEMU: every image it writes must
// pass `qemu-img check` and read back, through QEMU, exactly as a raw file
// given the same writes.

#include "image/image_writer.hpp"
#include "image/qcow2_file_writer.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>

#include <random>
#include <string>
#include <vector>

using namespace virtsnap;

namespace {

util::UniqueFd create(const std::string& path) {
    util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    REQUIRE(fd);
    return fd;
}

struct Write {
    std::uint64_t offset;
    std::string data;
};

// Ascending writes of random bytes, as the copy engine issues them: some
// within one cluster, some across many, some ending at the virtual size.
std::vector<Write> sample_writes(std::uint64_t size, std::uint64_t cluster) {
    std::mt19937_64 random(cluster);
    auto bytes = [&](std::uint64_t n) {
        std::string s(n, '\0');
        for (char& c : s)
            c = static_cast<char>(random() | 1);
        return s;
    };
    return {{0, bytes(4096)},
            {cluster + 4096, bytes(8192)},
            {3 * cluster, bytes(5 * cluster + 4096)},
            {size / 2, bytes(12288)},
            {size - 8192, bytes(8192)}};
}

void check_image(const std::string& path) {
    util::ProcessResult check = util::run_process({"qemu-img", "check", "-f", "qcow2", path});
    INFO(check.out << check.err);
    CHECK(check.succeeded());
}

void check_same_content(const std::string& qcow2, const std::string& raw) {
    util::ProcessResult compare =
        util::run_process({"qemu-img", "compare", "-f", "qcow2", "-F", "raw", qcow2, raw});
    INFO(compare.out << compare.err);
    CHECK(compare.succeeded());
}

} // namespace

TEST_CASE("qcow2 written directly passes qemu-img check and reads back like raw, any cluster size") {
    for (std::uint64_t cluster : {512ULL, 4096ULL, 65536ULL, 2ULL << 20}) {
        CAPTURE(cluster);
        test::TempDir dir;
        const std::string qcow2 = (dir / "copy.qcow2").string();
        const std::string raw = (dir / "copy.raw").string();
        const std::uint64_t size = 64ULL << 20;
        image::Qcow2Layout layout;
        layout.virtual_size = size;
        layout.cluster_size = cluster;
        layout.lazy_refcounts = cluster == 65536;
        image::Qcow2FileWriter writer(create(qcow2), qcow2, layout);
        image::RawFileWriter reference(create(raw), raw, size);
        for (const Write& w : sample_writes(size, cluster)) {
            writer.write(w.data.data(), w.data.size(), w.offset);
            reference.write(w.data.data(), w.data.size(), w.offset);
        }
        writer.finish();
        reference.finish();
        check_image(qcow2);
        check_same_content(qcow2, raw);
        util::ProcessResult info = util::run_process({"qemu-img", "info", "-f", "qcow2", qcow2});
        CHECK(info.out.find("cluster_size: " + std::to_string(cluster)) != std::string::npos);
        CHECK(info.out.find(std::string("lazy refcounts: ") + (cluster == 65536 ? "true" : "false")) !=
              std::string::npos);
    }
}

TEST_CASE("many small clusters need several refcount blocks and a refcount table of several clusters") {
    test::TempDir dir;
    const std::string qcow2 = (dir / "many.qcow2").string();
    const std::string raw = (dir / "many.raw").string();
    const std::uint64_t size = 16ULL << 20;
    image::Qcow2Layout layout;
    layout.virtual_size = size;
    layout.cluster_size = 512;
    image::Qcow2FileWriter writer(create(qcow2), qcow2, layout);
    image::RawFileWriter reference(create(raw), raw, size);
    // 9 MiB in 512-byte clusters: 18432 data clusters and 288 L2 tables
    // need 75 refcount blocks, whose 600-byte table spans two clusters.
    std::string data(1ULL << 20, '\x5a');
    for (std::uint64_t i = 0; i < 9; ++i) {
        writer.write(data.data(), data.size(), i * (1ULL << 20) + (i % 2) * (4ULL << 20) / 2);
        reference.write(data.data(), data.size(), i * (1ULL << 20) + (i % 2) * (4ULL << 20) / 2);
    }
    writer.finish();
    reference.finish();
    check_image(qcow2);
    check_same_content(qcow2, raw);
}

TEST_CASE("a layer over a backing image: zero clusters hide the backing, the rest shows through") {
    test::TempDir dir;
    const std::string base = (dir / "base.qcow2").string();
    const std::string layer = (dir / "layer.qcow2").string();
    const std::string expected = (dir / "expected.raw").string();
    const std::uint64_t size = 4ULL << 20, cluster = 65536;
    util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", base, "4M"});
    util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 4M", base});

    image::Qcow2Layout layout;
    layout.virtual_size = size;
    layout.cluster_size = cluster;
    layout.backing = "base.qcow2"; // relative to the layer, as --keep-chain writes it
    layout.backing_format = "qcow2";
    image::Qcow2FileWriter writer(create(layer), layer, layout);
    writer.write_zeroes(2 * cluster, 0); // clusters 0-1 read as zeros
    std::string data(4096, '\x11');
    writer.write(data.data(), data.size(), 3 * cluster);                  // cluster 3: data, rest of it zeros
    writer.write_zeroes(4096, 3 * cluster + 8192);                        // a hole inside a written cluster
    CHECK_THROWS_AS(writer.write_zeroes(4096, 5 * cluster), util::Error); // half a cluster cannot hide
    writer.finish();
    check_image(layer);

    image::RawFileWriter reference(create(expected), expected, size);
    std::string backing(size, '\xab');
    reference.write(backing.data(), size, 0);
    std::string zeros(cluster, '\0');
    for (std::uint64_t c : {0, 1, 3}) // an allocated cluster hides the backing whole
        reference.write(zeros.data(), zeros.size(), c * cluster);
    reference.write(data.data(), data.size(), 3 * cluster);
    reference.finish();
    check_same_content(layer, expected);
    util::ProcessResult info = util::run_process({"qemu-img", "info", "-f", "qcow2", layer});
    CHECK(info.out.find("backing file: base.qcow2") != std::string::npos);
    CHECK(info.out.find("backing file format: qcow2") != std::string::npos);
}

TEST_CASE("a cluster size qcow2 does not allow is refused") {
    test::TempDir dir;
    const std::string path = (dir / "bad.qcow2").string();
    image::Qcow2Layout layout;
    layout.virtual_size = 1 << 20;
    layout.cluster_size = 3000;
    CHECK_THROWS_AS(image::Qcow2FileWriter(create(path), path, layout), util::Error);
}

TEST_CASE("an empty image over a backing file (a snapshot overlay) reads as its backing") {
    test::TempDir dir;
    const std::string base = (dir / "base image é.raw").string();
    const std::string overlay = (dir / "overlay.qcow2").string();
    util::run_checked({"qemu-img", "create", "-q", "-f", "raw", base, "3M"});
    util::run_checked({"qemu-io", "-f", "raw", "-c", "write -P 0x5c 1M 1M", base});
    image::Qcow2Layout layout;
    layout.virtual_size = 3ULL << 20;
    layout.backing = base; // absolute, as virtsnap-create names the frozen image
    layout.backing_format = "raw";
    image::Qcow2FileWriter writer(create(overlay), overlay, layout);
    writer.finish();
    check_image(overlay);
    util::ProcessResult compare =
        util::run_process({"qemu-img", "compare", "-f", "qcow2", "-F", "raw", overlay, base});
    INFO(compare.out << compare.err);
    CHECK(compare.succeeded());
    util::ProcessResult info =
        util::run_process({"qemu-img", "info", "-U", "--output=json", "-f", "qcow2", overlay});
    CHECK(info.out.find("\"backing-filename-format\": \"raw\"") != std::string::npos);
}
