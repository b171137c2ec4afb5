// virtsnap-mount --nbd: one disk of a restore point served read-only by a
// real qemu-nbd until a signal, then the socket gone; a path in the way and
// damage refused before qemu-nbd starts.

#include "chain_sets.hpp"
#include "job/nbd_export.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/joined_thread.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <exception>
#include <filesystem>
#include <thread>
#include <unistd.h>

using namespace virtsnap;
namespace fs = std::filesystem;

namespace {

const std::string full_id = test::chain_set_id(1);
const std::string inc1_id = test::chain_set_id(2);
const util::Log quiet("test", util::Verbosity::quiet);

} // namespace

TEST_CASE("qemu-nbd exports read-only, its format given, for many clients") {
    const std::vector<std::string> command = job::qemu_nbd_command("/s/vda.qcow2", "qcow2", "/run/s.sock");
    const std::vector<std::string> expected{"qemu-nbd",     "--read-only", "--format=qcow2",
                                            "--persistent", "--shared=0",  "--socket=/run/s.sock",
                                            "--",           "/s/vda.qcow2"};
    CHECK(command == expected);
}

TEST_CASE("an incremental point's disk is served as it was at its set until a signal") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(full_id, {"write -P 0x61 0 256k"});
    sets.add_inc(inc1_id, full_id, {"write -P 0x62 64k 64k"});
    const std::string socket = (dir / "s.sock").string();
    const job::PinnedPoint point = job::pin_restore_point(sets.set_dir(inc1_id).string(), {});

    util::InterruptGuard guard;
    std::exception_ptr failed;
    {
        util::JoinedThread serving([&] {
            try {
                job::export_restore_point(point, {socket, "vda", false}, quiet);
            } catch (...) {
                failed = std::current_exception();
            }
        });
        for (int i = 0; i < 100 && !fs::is_socket(socket); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        REQUIRE(fs::is_socket(socket));
        const std::string out = (dir / "out.raw").string();
        util::run_checked({"qemu-img", "convert", "-O", "raw", "nbd+unix:///?socket=" + socket, out});
        CHECK(test::read_file(out) == sets.expected(inc1_id));
        // A second client after the first: --persistent.
        CHECK(util::run_process({"qemu-img", "info", "nbd+unix:///?socket=" + socket}).succeeded());
        ::kill(::getpid(), SIGTERM);
    }
    CHECK_FALSE(failed);
    CHECK_FALSE(fs::exists(socket));
}

TEST_CASE("a path in the way of the socket and a damaged disk are refused before qemu-nbd starts") {
    test::TempDir dir;
    test::ChainSets sets(dir);
    sets.add_full(full_id, {"write -P 0x61 0 256k"});
    const std::string socket = (dir / "s.sock").string();
    test::write_file(socket, "mine");
    const job::PinnedPoint point = job::pin_restore_point(sets.set_dir(full_id).string(), {});
    CHECK_THROWS_WITH_AS(job::export_restore_point(point, {socket, "vda", false}, quiet),
                         doctest::Contains("exists"), util::RefusedError);
    CHECK(test::read_file(socket) == "mine");

    util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0x77 128k 4k",
                       (sets.set_dir(full_id) / "vda.qcow2").string()});
    const std::string fresh = (dir / "fresh.sock").string();
    CHECK_THROWS_WITH_AS(job::export_restore_point(point, {fresh, "vda", false}, quiet),
                         doctest::Contains("nothing was exported"), util::VerificationMismatch);
    CHECK_FALSE(fs::exists(fresh));
}
