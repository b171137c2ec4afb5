// Reading files that come from outside must not let them steer the reader:
// a FIFO would block for ever, a link to /dev/zero would fill memory, a link
// could point at a file never meant to be read. Each case here is one of
// those traps, set for real.

#include "temp_dir.hpp"
#include "util/error.hpp"
#include "util/file_read.hpp"
#include "util/unique_fd.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace virtsnap;
namespace fs = std::filesystem;
using util::read_strict_file;
using util::read_strict_file_if_exists;

namespace {

// Opens a FIFO's writing end after a while, so a reader that wrongly
// blocked on it is released and the test fails on its time instead of
// hanging the whole binary.
class FifoRescue {
  public:
    explicit FifoRescue(fs::path fifo)
        : thread_([fifo = std::move(fifo), this] {
              std::unique_lock<std::mutex> lock(mutex_);
              if (done_.wait_for(lock, std::chrono::seconds(3), [this] { return finished_; }))
                  return;
              util::UniqueFd writer(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
          }) {}
    ~FifoRescue() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            finished_ = true;
        }
        done_.notify_one();
        thread_.join();
    }
    FifoRescue(const FifoRescue&) = delete;
    FifoRescue& operator=(const FifoRescue&) = delete;

  private:
    std::mutex mutex_;
    std::condition_variable done_;
    bool finished_ = false;
    std::thread thread_;
};

} // namespace

TEST_CASE("read_strict_file reads a regular file, up to its limit exactly") {
    test::TempDir dir;
    test::write_file(dir / "manifest.xml", "<m/>");
    CHECK(read_strict_file(AT_FDCWD, (dir / "manifest.xml").string(), 4, "manifest") == "<m/>");
    CHECK(read_strict_file_if_exists(AT_FDCWD, (dir / "manifest.xml").string(), 100, "manifest") == "<m/>");
    // Relative to a directory descriptor, as a set's files are read.
    util::UniqueFd dir_fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(dir_fd);
    CHECK(read_strict_file(dir_fd.get(), "manifest.xml", 100, "manifest") == "<m/>");
    test::write_file(dir / "empty", "");
    CHECK(read_strict_file(AT_FDCWD, (dir / "empty").string(), 0, "empty") == "");
}

TEST_CASE("read_strict_file: a missing file is nullopt for _if_exists, an InputError otherwise") {
    test::TempDir dir;
    const std::string missing = (dir / "missing.xml").string();
    CHECK_FALSE(read_strict_file_if_exists(AT_FDCWD, missing, 100, "record").has_value());
    CHECK_THROWS_WITH_AS(read_strict_file(AT_FDCWD, missing, 100, "record 'missing.xml'"),
                         doctest::Contains("record 'missing.xml' does not exist"), util::InputError);
}

TEST_CASE("read_strict_file refuses a FIFO at once, with nothing at its other end") {
    test::TempDir dir;
    const fs::path fifo = dir / "manifest.xml";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    FifoRescue rescue(fifo);
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(read_strict_file(AT_FDCWD, fifo.string(), 100, "manifest"),
                         doctest::Contains("manifest is a FIFO, not a regular file"), util::InputError);
    CHECK_THROWS_AS(read_strict_file_if_exists(AT_FDCWD, fifo.string(), 100, "manifest"), util::InputError);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("read_strict_file refuses any symbolic link, to /dev/zero or to a regular file") {
    test::TempDir dir;
    fs::create_symlink("/dev/zero", dir / "zero.xml");
    test::write_file(dir / "real.xml", "<m/>");
    fs::create_symlink(dir / "real.xml", dir / "link.xml");
    for (const char* name : {"zero.xml", "link.xml"}) {
        CAPTURE(name);
        CHECK_THROWS_WITH_AS(read_strict_file(AT_FDCWD, (dir / name).string(), 1 << 20, "manifest"),
                             doctest::Contains("manifest is a symbolic link"), util::InputError);
    }
}

TEST_CASE("read_strict_file refuses a directory, a device and a file over the limit") {
    test::TempDir dir;
    CHECK_THROWS_WITH_AS(read_strict_file(AT_FDCWD, dir.path().string(), 100, "manifest"),
                         doctest::Contains("manifest is a directory"), util::InputError);
    CHECK_THROWS_WITH_AS(read_strict_file(AT_FDCWD, "/dev/zero", 100, "manifest"),
                         doctest::Contains("manifest is a character device"), util::InputError);
    test::write_file(dir / "big.xml", std::string(101, 'x'));
    CHECK_THROWS_WITH_AS(read_strict_file(AT_FDCWD, (dir / "big.xml").string(), 100, "manifest"),
                         doctest::Contains("manifest is larger than"), util::InputError);
}

TEST_CASE("read_named_file follows a link the user named, but stops /dev/zero at the limit") {
    test::TempDir dir;
    test::write_file(dir / "real.xml", "<m/>");
    fs::create_symlink(dir / "real.xml", dir / "link.xml");
    CHECK(util::read_named_file((dir / "link.xml").string(), 100, "manifest") == "<m/>");
    fs::create_symlink("/dev/zero", dir / "zero.xml");
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(util::read_named_file((dir / "zero.xml").string(), 1 << 20, "manifest"),
                         doctest::Contains("manifest is larger than"), util::InputError);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
}

TEST_CASE("read_named_file refuses a directory, a missing file and a file over the limit") {
    test::TempDir dir;
    CHECK_THROWS_WITH_AS(util::read_named_file(dir.path().string(), 100, "manifest"),
                         doctest::Contains("manifest is a directory"), util::InputError);
    CHECK_THROWS_WITH_AS(util::read_named_file((dir / "missing").string(), 100, "manifest"),
                         doctest::Contains("cannot read manifest"), util::InputError);
    test::write_file(dir / "big.xml", std::string(101, 'x'));
    CHECK_THROWS_AS(util::read_named_file((dir / "big.xml").string(), 100, "manifest"), util::InputError);
    CHECK(util::read_named_file((dir / "big.xml").string(), 101, "manifest").size() == 101);
}

TEST_CASE("read_named_file reads a pipe the user named (-m <(virtsnap-create vm1))") {
    test::TempDir dir;
    const fs::path fifo = dir / "pipe";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    std::thread writer([&fifo] {
        util::UniqueFd fd(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
        const std::string text = "<manifest/>";
        if (fd) [[maybe_unused]]
            const ssize_t written = ::write(fd.get(), text.data(), text.size());
    });
    const std::string text = util::read_named_file(fifo.string(), 100, "manifest");
    writer.join();
    CHECK(text == "<manifest/>");
}

TEST_CASE("read_bounded reads to the end, but no further than the limit") {
    util::Pipe pipe = util::make_pipe();
    const std::string text(70000, 'y'); // more than one read's buffer
    std::thread writer([&] {
        [[maybe_unused]] const ssize_t written = ::write(pipe.write_end.get(), text.data(), text.size());
        pipe.write_end.reset();
    });
    CHECK(util::read_bounded(pipe.read_end.get(), 70000, "standard input") == text);
    writer.join();

    util::UniqueFd zero(::open("/dev/zero", O_RDONLY | O_CLOEXEC));
    REQUIRE(zero);
    CHECK_THROWS_WITH_AS(util::read_bounded(zero.get(), 100000, "standard input"),
                         doctest::Contains("standard input is larger than"), util::InputError);
}
