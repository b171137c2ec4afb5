#include "store/domain_lock.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace virtsnap;
using store::DomainLock;

namespace {
const char* uuid = "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11";
}

TEST_CASE("a second run on the same domain is refused, naming the holder's pid") {
    test::TempDir dir;
    DomainLock first = DomainLock::acquire(dir.path().string(), uuid, "vm1");
    CHECK_THROWS_WITH_AS(DomainLock::acquire(dir.path().string(), uuid, "vm1"),
                         doctest::Contains(("pid " + std::to_string(::getpid())).c_str()),
                         util::RefusedError);
    // Another domain is independent.
    DomainLock other =
        DomainLock::acquire(dir.path().string(), "0b8f3c56-3d0e-4a7e-8e9f-1f2a3b4c5d6e", "vm2");
}

TEST_CASE("the lock is released when its owner goes away") {
    test::TempDir dir;
    { DomainLock lock = DomainLock::acquire(dir.path().string(), uuid, "vm1"); }
    CHECK_NOTHROW(DomainLock::acquire(dir.path().string(), uuid, "vm1"));
}

TEST_CASE("a holder killed with SIGKILL does not block the next run") {
    test::TempDir dir;
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        DomainLock lock = DomainLock::acquire(dir.path().string(), uuid, "vm1");
        (void)!::write(ready[1], "x", 1);
        ::pause();
        ::_exit(0);
    }
    char c;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    ::close(ready[0]);
    ::close(ready[1]);
    CHECK_THROWS_AS(DomainLock::acquire(dir.path().string(), uuid, "vm1"), util::RefusedError);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    CHECK_NOTHROW(DomainLock::acquire(dir.path().string(), uuid, "vm1"));
}

TEST_CASE("a hard link planted at the lock's name is refused, the linked file untouched") {
    test::TempDir dir;
    const std::string uuid = "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11";
    test::write_file(dir / "victim", "precious");
    REQUIRE(::link((dir / "victim").c_str(), (dir / (uuid + ".lock")).c_str()) == 0);
    CHECK_THROWS_WITH_AS(store::DomainLock::acquire(dir.path().string(), uuid, "vm"),
                         doctest::Contains("hard link"), util::RefusedError);
    CHECK(test::read_file(dir / "victim") == "precious");
}
