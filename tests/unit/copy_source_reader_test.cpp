#include "copy/source_reader.hpp"
#include "image/image_file.hpp"
#include "util/error.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <string>

using namespace virtsnap;
using virtsnap::test::TempDir;

namespace {

struct FreeDeleter {
    void operator()(char* p) const noexcept { std::free(p); }
};

// A buffer aligned as the copy engine's are (4 KiB).
std::unique_ptr<char, FreeDeleter> aligned_buffer(std::size_t size) {
    void* memory = nullptr;
    REQUIRE(::posix_memalign(&memory, 4096, size) == 0);
    return std::unique_ptr<char, FreeDeleter>(static_cast<char*>(memory));
}

image::Extent extent_at(std::uint64_t start, std::uint64_t length, std::uint64_t offset) {
    image::Extent extent;
    extent.start = start;
    extent.length = length;
    extent.data = extent.present = true;
    extent.offset = offset;
    return extent;
}

std::string pattern(std::size_t size) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        data[i] = static_cast<char>(i * 131 + i / 4096 + 1);
    return data;
}

} // namespace

TEST_CASE("source reader: aligned and unaligned reads return the file's bytes, whatever the alignment") {
    TempDir dir;
    // A file whose end is not on a 4 KiB boundary: its last read has an
    // unaligned tail.
    const std::string content = pattern(3 * 1024 * 1024 + 1000);
    test::write_file(dir / "disk.raw", content);
    image::ImageFile file = image::ImageFile::open(dir / "disk.raw", image::ImageOrigin::host);
    const image::Extent whole = extent_at(0, content.size(), 0);
    std::unique_ptr<copy::SourceReader> reader = copy::open_source_reader({&file}, "raw", {whole}, false);
    auto buffer = aligned_buffer(content.size() + 8192);

    struct Case {
        std::uint64_t offset, length, in_buffer;
    };
    for (const Case& c : {
             Case{0, 2 * 1024 * 1024, 0},          // aligned throughout
             Case{4096, content.size() - 4096, 0}, // an unaligned tail
             Case{512, 3 * 4096, 0},               // an unaligned file offset
             Case{8192, 5 * 4096, 100},            // an unaligned buffer
             Case{4096, 4096 + 17, 4096},          // aligned head, short tail
             Case{content.size() - 100, 100, 0},   // the last bytes only
             Case{0, 100, 0},                      // less than one block
         }) {
        CAPTURE(c.offset);
        CAPTURE(c.length);
        CAPTURE(c.in_buffer);
        reader->read(whole, c.offset, buffer.get() + c.in_buffer, c.length);
        CHECK(std::string(buffer.get() + c.in_buffer, c.length) == content.substr(c.offset, c.length));
    }
}

TEST_CASE("source reader: an extent's file offset is where its data is read from") {
    TempDir dir;
    const std::string content = pattern(1024 * 1024);
    test::write_file(dir / "layer.qcow2", content);
    image::ImageFile file = image::ImageFile::open(dir / "layer.qcow2", image::ImageOrigin::host);
    // Guest offset 1 MiB lies at file offset 64 KiB.
    const image::Extent extent = extent_at(1024 * 1024, 512 * 1024, 65536);
    std::unique_ptr<copy::SourceReader> reader = copy::open_source_reader({&file}, "qcow2", {extent}, false);
    auto buffer = aligned_buffer(256 * 1024);
    reader->read(extent, 1024 * 1024 + 8192, buffer.get(), 256 * 1024);
    CHECK(std::string(buffer.get(), 256 * 1024) == content.substr(65536 + 8192, 256 * 1024));
}

TEST_CASE("source reader: a file shorter than its map is an error, not zeros") {
    TempDir dir;
    test::write_file(dir / "short.raw", pattern(8192 + 10));
    image::ImageFile file = image::ImageFile::open(dir / "short.raw", image::ImageOrigin::host);
    const image::Extent whole = extent_at(0, 64 * 1024, 0);
    std::unique_ptr<copy::SourceReader> reader = copy::open_source_reader({&file}, "raw", {whole}, false);
    auto buffer = aligned_buffer(64 * 1024);
    CHECK_THROWS_WITH_AS(reader->read(whole, 0, buffer.get(), 64 * 1024),
                         doctest::Contains("ends before offset"), util::Error);
    CHECK_THROWS_WITH_AS(reader->read(whole, 8192, buffer.get(), 16384),
                         doctest::Contains("ends before offset"), util::Error);
}
