#include "util/unique_fd.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

using virtsnap::util::UniqueFd;

namespace {
bool is_open(int fd) {
    return ::fcntl(fd, F_GETFD) != -1;
}
} // namespace

TEST_CASE("UniqueFd closes its descriptor when destroyed") {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(raw >= 0);
    {
        UniqueFd fd(raw);
        CHECK(is_open(raw));
    }
    CHECK_FALSE(is_open(raw));
}

TEST_CASE("UniqueFd moves ownership and closes once") {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(raw >= 0);
    UniqueFd a(raw);
    UniqueFd b(std::move(a));
    CHECK_FALSE(a);
    CHECK(b.get() == raw);
    UniqueFd c;
    c = std::move(b);
    CHECK(c.get() == raw);
    c.reset();
    CHECK_FALSE(is_open(raw));
}

TEST_CASE("release hands the descriptor back without closing it") {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    UniqueFd fd(raw);
    CHECK(fd.release() == raw);
    CHECK(is_open(raw));
    ::close(raw);
}

TEST_CASE("make_pipe gives two connected close-on-exec ends") {
    auto pipe = virtsnap::util::make_pipe();
    CHECK((::fcntl(pipe.read_end.get(), F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(::write(pipe.write_end.get(), "x", 1) == 1);
    char c = 0;
    CHECK(::read(pipe.read_end.get(), &c, 1) == 1);
    CHECK(c == 'x');
}
