// The options that go with --instant and --finish, and --bandwidth.

#include "cli/instant_options.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace virtsnap;

namespace {

cli::InstantChoice instant() {
    cli::InstantChoice choice;
    choice.instant = true;
    choice.set = true;
    choice.output = true;
    choice.define = true;
    return choice;
}

} // namespace

TEST_CASE("--instant needs -o and --define and refuses what does not fit") {
    CHECK(cli::check_instant_choice(instant()) == 0);
    cli::InstantChoice c = instant();
    c.format = "qcow2";
    c.until = true;
    c.bandwidth = "20";
    CHECK(cli::check_instant_choice(c) == 20);

    for (auto change : std::vector<void (*)(cli::InstantChoice&)>{
             [](cli::InstantChoice& x) { x.define = false; }, [](cli::InstantChoice& x) { x.output = false; },
             [](cli::InstantChoice& x) { x.format = "raw"; }, [](cli::InstantChoice& x) { x.disks = true; },
             [](cli::InstantChoice& x) { x.file = true; }, [](cli::InstantChoice& x) { x.force = true; },
             [](cli::InstantChoice& x) { x.bandwidth = "0"; },
             [](cli::InstantChoice& x) { x.bandwidth = "1M"; },
             [](cli::InstantChoice& x) { x.bandwidth = "-5"; },
             [](cli::InstantChoice& x) { x.bandwidth = "99999999999"; }}) {
        cli::InstantChoice bad = instant();
        change(bad);
        CHECK_THROWS_AS(cli::check_instant_choice(bad), util::UsageError);
    }
}

TEST_CASE("--finish stands alone, --bandwidth goes with --instant or --finish") {
    cli::InstantChoice finish;
    finish.finish = true;
    CHECK(cli::check_instant_choice(finish) == 0);
    finish.bandwidth = "5";
    CHECK(cli::check_instant_choice(finish) == 5);
    for (auto change : std::vector<void (*)(cli::InstantChoice&)>{
             [](cli::InstantChoice& x) { x.set = true; }, [](cli::InstantChoice& x) { x.output = true; },
             [](cli::InstantChoice& x) { x.define = true; }, [](cli::InstantChoice& x) { x.instant = true; },
             [](cli::InstantChoice& x) { x.until = true; }}) {
        cli::InstantChoice bad = finish;
        change(bad);
        CHECK_THROWS_AS(cli::check_instant_choice(bad), util::UsageError);
    }
    cli::InstantChoice plain;
    plain.set = plain.output = true;
    CHECK(cli::check_instant_choice(plain) == 0);
    plain.bandwidth = "5";
    CHECK_THROWS_AS(cli::check_instant_choice(plain), util::UsageError);
}
