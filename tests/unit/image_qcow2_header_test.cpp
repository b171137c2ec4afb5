// The qcow2 header reader decides which files a backup set's image makes
// QEMU open besides itself, so it is judged twice: against headers
// qemu-img makes (it must read what QEMU wrote), and against headers made
// by hand to lie (it must refuse each lie with an InputError, never read
// past its buffer, never loop).

#include "image/qcow2_header.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"
#include "util/unique_fd.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace virtsnap;

namespace {

image::Qcow2Header header_of(const std::string& path) {
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    return image::read_qcow2_header(fd.get(), "image " + util::quoted(path));
}

void qemu_img_create(const std::vector<std::string>& arguments) {
    std::vector<std::string> argv{"qemu-img", "create", "-q"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    util::run_checked(argv);
}

// A version 3 header of one 64 KiB cluster, as QEMU lays it out
// (docs/interop/qcow2.txt), to be bent into the lies below.
class Header {
  public:
    // size: how many bytes of the file there are (one cluster when 0).
    explicit Header(std::uint32_t cluster_bits = 16, std::size_t size = 0)
        : bytes_(size != 0 ? size : std::size_t{1} << cluster_bits, 0) {
        put(0, 0x514649fbU, 4);
        put(4, 3, 4);
        put(20, cluster_bits, 4);
        put(24, 1ULL << 30, 8);
        put(96, 4, 4);    // refcount order
        put(100, 112, 4); // header length
    }

    Header& put(std::size_t at, std::uint64_t value, int bytes) {
        for (int i = bytes - 1; i >= 0; --i, value >>= 8)
            bytes_.at(at + static_cast<std::size_t>(i)) = static_cast<unsigned char>(value & 0xff);
        return *this;
    }
    // What does not fit into the file is left out: the header may claim it.
    Header& put_text(std::size_t at, const std::string& text) {
        for (std::size_t i = 0; i < text.size() && at + i < bytes_.size(); ++i)
            bytes_[at + i] = static_cast<unsigned char>(text[i]);
        return *this;
    }
    // A backing file name at offset (after the extensions' end marker).
    Header& backing(const std::string& name, std::uint64_t offset = 120) {
        put(8, offset, 8);
        put(16, name.size(), 4);
        return put_text(static_cast<std::size_t>(offset), name);
    }

    image::Qcow2Header parse(std::size_t size = SIZE_MAX) const {
        return image::parse_qcow2_header(bytes_.data(), std::min(size, bytes_.size()), "image 'lie.qcow2'");
    }

  private:
    std::vector<unsigned char> bytes_;
};

void check_refused(const Header& header, const std::string& problem, std::size_t size = SIZE_MAX) {
    CAPTURE(problem);
    CHECK_THROWS_WITH_AS(
        header.parse(size),
        doctest::Contains(("image 'lie.qcow2' is not a valid qcow2 image: " + problem).c_str()),
        util::InputError);
}

} // namespace

TEST_CASE("qcow2 header: a version 3 image from qemu-img, alone and over a backing file") {
    test::TempDir dir;
    const std::string base = (dir / "base.qcow2").string();
    const std::string top = (dir / "top.qcow2").string();
    qemu_img_create({"-f", "qcow2", "-o", "cluster_size=4096", base, "1000000"});
    qemu_img_create({"-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top, "2M"});

    const image::Qcow2Header alone = header_of(base);
    CHECK(alone.version == 3);
    CHECK(alone.cluster_bits == 12);
    CHECK(alone.size == 1000448); // 1,000,000 rounded up to whole sectors
    CHECK(alone.backing_file.empty());
    CHECK(alone.backing_format.empty());
    CHECK_FALSE(alone.external_data_file);
    CHECK(alone.data_file.empty());

    const image::Qcow2Header layer = header_of(top);
    CHECK(layer.version == 3);
    CHECK(layer.cluster_bits == 16);
    CHECK(layer.size == 2U << 20);
    CHECK(layer.backing_file == "base.qcow2");
    CHECK(layer.backing_format == "qcow2");
    CHECK_FALSE(layer.external_data_file);
}

TEST_CASE("qcow2 header: a version 2 image (compat 0.10) from qemu-img, alone and over a raw file") {
    test::TempDir dir;
    const std::string base = (dir / "base image é.raw").string();
    const std::string alone_path = (dir / "alone.qcow2").string();
    const std::string top = (dir / "top.qcow2").string();
    qemu_img_create({"-f", "raw", base, "1M"});
    qemu_img_create({"-f", "qcow2", "-o", "compat=0.10", alone_path, "1M"});
    qemu_img_create({"-f", "qcow2", "-o", "compat=0.10", "-b", base, "-F", "raw", top, "1M"});

    const image::Qcow2Header alone = header_of(alone_path);
    CHECK(alone.version == 2);
    CHECK(alone.size == 1U << 20);
    CHECK(alone.backing_file.empty());
    CHECK(alone.incompatible_features == 0);

    const image::Qcow2Header layer = header_of(top);
    CHECK(layer.version == 2);
    CHECK(layer.backing_file == base);
    CHECK(layer.backing_format == "raw");
    CHECK_FALSE(layer.external_data_file);
}

TEST_CASE("qcow2 header: an image with an external data file says so and names it") {
    test::TempDir dir;
    const std::string data = (dir / "data.raw").string();
    const std::string image = (dir / "image.qcow2").string();
    qemu_img_create({"-f", "qcow2", "-o", "data_file=" + data, image, "1M"});
    const image::Qcow2Header header = header_of(image);
    CHECK(header.version == 3);
    CHECK(header.external_data_file);
    CHECK(header.data_file == data);
    CHECK((header.incompatible_features & 4) != 0);
    CHECK(header.backing_file.empty());
}

TEST_CASE("qcow2 header: a file too short for a header is refused, however short") {
    test::TempDir dir;
    const std::string real = (dir / "real.qcow2").string();
    qemu_img_create({"-f", "qcow2", real, "1M"});
    const std::string bytes = test::read_file(real);
    for (std::size_t size : {0, 3, 4, 50, 71, 80, 103}) {
        CAPTURE(size);
        CHECK_THROWS_AS(image::parse_qcow2_header(reinterpret_cast<const unsigned char*>(bytes.data()), size,
                                                  "image 'cut.qcow2'"),
                        util::InputError);
    }
    check_refused(Header(), "its header ends early", 100);
    // The backing name lies past the end of the file.
    check_refused(Header().backing("base.qcow2", 4000), "its header ends early", 2000);
    // A truncated file read through a descriptor is refused the same way.
    test::write_file(dir / "cut.qcow2", bytes.substr(0, 90));
    CHECK_THROWS_AS(header_of((dir / "cut.qcow2").string()), util::InputError);
}

TEST_CASE("qcow2 header: a wrong magic or version is refused") {
    check_refused(Header().put(0, 0x514649fcU, 4), "it does not start with the qcow2 magic");
    check_refused(Header().put(0, 0, 4), "it does not start with the qcow2 magic");
    check_refused(Header().put(4, 1, 4), "version 1 is not 2 or 3");
    check_refused(Header().put(4, 4, 4), "version 4 is not 2 or 3");
    check_refused(Header().put(4, 0xffffffffU, 4), "version 4294967295 is not 2 or 3");
}

TEST_CASE("qcow2 header: cluster bits outside 9 to 21 are refused, the edges accepted") {
    check_refused(Header().put(20, 8, 4), "cluster bits 8 are outside 9 to 21");
    check_refused(Header().put(20, 22, 4), "cluster bits 22 are outside 9 to 21");
    check_refused(Header().put(20, 0xffffffffU, 4), "cluster bits 4294967295 are outside 9 to 21");
    CHECK(Header(9).parse().cluster_bits == 9);
    CHECK(Header(21).parse().cluster_bits == 21);
}

TEST_CASE("qcow2 header: a malformed header length is refused") {
    check_refused(Header().put(100, 100, 4), "header length 100 is malformed");
    check_refused(Header().put(100, 113, 4), "header length 113 is malformed");
    check_refused(Header(9).put(100, 1024, 4), "header length 1024 is malformed");
}

TEST_CASE("qcow2 header: a backing name outside the header cluster, or too long, is refused") {
    // Starting inside the cluster but running past its end.
    check_refused(Header().backing("base.qcow2", 65536 - 4),
                  "the backing file name lies outside the header cluster");
    // Starting past the cluster, in bytes the file does hold.
    Header beyond(9, 4096);
    check_refused(beyond.put(8, 600, 8).put(16, 10, 4),
                  "the backing file name lies outside the header cluster");
    // A name longer than a 512-byte cluster, in bytes the file does hold.
    Header longer(9, 4096);
    check_refused(longer.backing(std::string(600, 'a'), 200),
                  "the backing file name lies outside the header cluster");
    // An offset that wraps around when the length is added to it.
    check_refused(Header().put(8, UINT64_MAX - 3, 8).put(16, 10, 4),
                  "the backing file name lies outside the header cluster");
    // Inside the header itself, and an offset of 0 with a length.
    check_refused(Header().backing("base", 64), "the backing file name lies outside the header cluster");
    check_refused(Header().put(16, 10, 4), "the backing file name lies outside the header cluster");
    // QEMU reads at most 1023 bytes of a backing name.
    check_refused(Header().backing(std::string(1024, 'a')), "the backing file name is 1024 bytes long");
    CHECK(Header().backing(std::string(1023, 'a')).parse().backing_file.size() == 1023);
    // An offset with no length names nothing QEMU would open, but is no header QEMU writes.
    check_refused(Header().put(8, 120, 8), "the backing file name is 0 bytes long");
}

TEST_CASE("qcow2 header: a NUL in the backing name is refused (QEMU would open a shorter name)") {
    check_refused(Header().backing(std::string("base.qcow2\0/etc/shadow", 22)),
                  "the backing file name holds a NUL byte");
}

TEST_CASE("qcow2 header: extensions that run past the header cluster are refused") {
    // One extension longer than what is left of the cluster.
    check_refused(Header().put(112, 0x12345678U, 4).put(116, 65536, 4),
                  "a header extension runs past the header cluster");
    // The backing name ends the extension area; an extension crossing it is refused.
    Header crossing;
    crossing.put(112, 0xe2792acaU, 4).put(116, 64, 4).put_text(120, "qcow2");
    check_refused(crossing.backing("base.qcow2", 160), "a header extension runs past the header cluster");
    // No end marker, and less than an extension header left before the name.
    Header no_end;
    no_end.put(112, 0x12345678U, 4).put(116, 0, 4);
    check_refused(no_end.backing("base.qcow2", 124), "its header extensions run past the header cluster");
    // Extensions filling a 512-byte cluster to its end without an end marker.
    Header full(9);
    full.put(112, 0x12345678U, 4).put(116, 512 - 120 - 8, 4).put(504, 0x12345678U, 4).put(508, 1, 4);
    check_refused(full, "a header extension runs past the header cluster");
}

TEST_CASE("qcow2 header: a data file named by an extension, or by the feature bit alone, is external") {
    Header named;
    named.put(112, 0x44415441U, 4).put(116, 9, 4).put_text(120, "/dev/sda1");
    image::Qcow2Header header = named.parse();
    CHECK(header.external_data_file);
    CHECK(header.data_file == "/dev/sda1");

    header = Header().put(72, 4, 8).parse();
    CHECK(header.external_data_file);
    CHECK(header.data_file.empty());

    // Unknown extensions are skipped, and the ones after them still read.
    Header skipped;
    skipped.put(112, 0x6803f857U, 4)
        .put(116, 3, 4)
        .put(128, 0xe2792acaU, 4)
        .put(132, 3, 4)
        .put_text(136, "raw");
    header = skipped.backing("base.raw", 152).parse();
    CHECK(header.backing_file == "base.raw");
    CHECK(header.backing_format == "raw");
    CHECK_FALSE(header.external_data_file);
}

TEST_CASE("qcow2 backing path: as QEMU would open it, and none for anything but a plain qcow2 file") {
    test::TempDir dir;
    const std::string base = (dir / "base.qcow2").string();
    const std::string relative = (dir / "relative.qcow2").string();
    const std::string absolute = (dir / "absolute.qcow2").string();
    qemu_img_create({"-f", "qcow2", base, "1M"});
    qemu_img_create({"-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", relative, "1M"});
    qemu_img_create({"-f", "qcow2", "-b", base, "-F", "qcow2", absolute, "1M"});
    CHECK(image::backing_path(relative) == base);
    CHECK(image::backing_path(absolute) == base);
    CHECK_FALSE(image::backing_path(base));

    const std::string link = (dir / "link.qcow2").string();
    REQUIRE(::symlink(absolute.c_str(), link.c_str()) == 0);
    CHECK_FALSE(image::backing_path(link));
    const std::string fifo = (dir / "fifo.qcow2").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_FALSE(image::backing_path(fifo)); // returns at once: no writer ever comes
    const std::string raw = (dir / "raw.img").string();
    qemu_img_create({"-f", "raw", raw, "1M"});
    CHECK_FALSE(image::backing_path(raw));
    CHECK_FALSE(image::backing_path((dir / "missing.qcow2").string()));
    CHECK_FALSE(image::backing_path(dir.path().string()));
}
