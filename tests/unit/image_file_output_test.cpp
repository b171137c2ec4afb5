#include "image/file_output.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <string>

using virtsnap::image::write_fully;
using virtsnap::image::write_piece;
using virtsnap::test::TempDir;
using virtsnap::util::UniqueFd;

TEST_CASE("write_fully writes a buffer longer than one piece at an unaligned offset, byte for byte") {
    TempDir dir;
    const std::string path = dir / "out";
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    REQUIRE(fd);
    std::string data(3 * write_piece + 13, '\0');
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 7 + i / 4096);
    const std::uint64_t offset = 4097;
    write_fully(fd.get(), path, data.data(), data.size(), offset);
    fd.reset();

    const std::string written = virtsnap::test::read_file(path);
    REQUIRE(written.size() == offset + data.size());
    CHECK(written.substr(0, offset) == std::string(offset, '\0'));
    CHECK(written.substr(offset) == data);
}

TEST_CASE("write_fully names the file and the system's reason when it cannot write") {
    TempDir dir;
    const std::string path = dir / "read-only";
    virtsnap::test::write_file(path, "x");
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    REQUIRE(fd);
    const char byte = 'y';
    try {
        write_fully(fd.get(), path, &byte, 1, 0);
        FAIL("no error");
    } catch (const virtsnap::util::SystemError& e) {
        CHECK(std::string(e.what()).find("cannot write '" + path + "'") != std::string::npos);
        CHECK(std::string(e.what()).find("Bad file descriptor") != std::string::npos);
    }
}
