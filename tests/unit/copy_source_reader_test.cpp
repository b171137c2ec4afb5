#include "copy/source_reader.hpp"
#include "image/image_file.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fcntl.h>
#include <memory>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

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

void check_aligned_and_unaligned_reads(bool uncached) {
    CAPTURE(uncached);
    TempDir dir;
    // A file whose end is not on a 4 KiB boundary: its last read has an
    // unaligned tail.
    const std::string content = pattern(3 * 1024 * 1024 + 1000);
    test::write_file(dir / "disk.raw", content);
    image::ImageFile file = image::ImageFile::open(dir / "disk.raw", image::ImageOrigin::host);
    const image::Extent whole = extent_at(0, content.size(), 0);
    std::unique_ptr<copy::SourceReader> reader =
        copy::open_source_reader({&file}, "raw", {whole}, false, uncached);
    auto buffer = aligned_buffer(content.size() + 8192);

    struct Case {
        std::uint64_t offset, length, in_buffer;
    };
    for (const Case& c : {
             Case{0, 2 * 1024 * 1024, 0},          // aligned throughout
             Case{4096, content.size() - 4096, 0}, // an unaligned tail
             Case{512, 3 * 4096, 0},               // an unaligned file offset
             Case{8192, 5 * 4096, 100},            // an unaligned buffer
             Case{512, 3 * 4096 + 100, 512},       // file and buffer unaligned alike
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

} // namespace

TEST_CASE("source reader: aligned and unaligned reads return the file's bytes, whatever the alignment") {
    // Through the page cache, and past it (O_DIRECT for what is aligned).
    check_aligned_and_unaligned_reads(false);
    check_aligned_and_unaligned_reads(true);
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
    for (const bool uncached : {false, true}) {
        CAPTURE(uncached);
        TempDir dir;
        test::write_file(dir / "short.raw", pattern(8192 + 10));
        image::ImageFile file = image::ImageFile::open(dir / "short.raw", image::ImageOrigin::host);
        const image::Extent whole = extent_at(0, 64 * 1024, 0);
        std::unique_ptr<copy::SourceReader> reader =
            copy::open_source_reader({&file}, "raw", {whole}, false, uncached);
        auto buffer = aligned_buffer(64 * 1024);
        CHECK_THROWS_WITH_AS(reader->read(whole, 0, buffer.get(), 64 * 1024),
                             doctest::Contains("ends before offset"), util::Error);
        CHECK_THROWS_WITH_AS(reader->read(whole, 8192, buffer.get(), 16384),
                             doctest::Contains("ends before offset"), util::Error);
    }
}

namespace {

// How many of path's pages are in the page cache.
std::size_t cached_pages(const std::string& path, std::size_t size) {
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
    REQUIRE(map != MAP_FAILED);
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> resident((size + page - 1) / page);
    const int got = ::mincore(map, size, resident.data());
    ::munmap(map, size);
    REQUIRE(got == 0);
    std::size_t count = 0;
    for (unsigned char flags : resident)
        count += flags & 1U;
    return count;
}

} // namespace

TEST_CASE("source reader: an uncached reader leaves the page cache as it found it") {
    TempDir dir;
    const std::string path = (dir / "disk.raw").string();
    const std::string content = pattern(4 * 1024 * 1024 + 100);
    test::write_file(path, content);
    {
        util::UniqueFd direct(::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
        if (!direct) {
            MESSAGE("TMPDIR's file system refuses O_DIRECT: only the fallback is tested");
            return;
        }
        util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        REQUIRE(::fdatasync(fd.get()) == 0);
        REQUIRE(::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED) == 0);
    }
    REQUIRE(cached_pages(path, content.size()) == 0);
    image::ImageFile file = image::ImageFile::open(path, image::ImageOrigin::host);
    const image::Extent whole = extent_at(0, content.size(), 0);
    auto buffer = aligned_buffer(content.size() + 4096);
    copy::open_source_reader({&file}, "raw", {whole}, false, true)
        ->read(whole, 0, buffer.get(), content.size());
    CHECK(std::string(buffer.get(), content.size()) == content);
    // Only the unaligned tail came through the cache.
    CHECK(cached_pages(path, content.size()) <= 1);
    // A head unaligned as the buffer is: only its page through the cache.
    const std::uint64_t head = 1000, length = 2 * 1024 * 1024;
    copy::open_source_reader({&file}, "raw", {whole}, false, true)
        ->read(whole, head, buffer.get() + head, length);
    CHECK(std::string(buffer.get() + head, length) == content.substr(head, length));
    CHECK(cached_pages(path, content.size()) <= 3);
    // The page cache's reader fills it.
    copy::open_source_reader({&file}, "raw", {whole}, false, false)
        ->read(whole, 0, buffer.get(), content.size());
    CHECK(cached_pages(path, content.size()) == (content.size() + 4095) / 4096);
}
