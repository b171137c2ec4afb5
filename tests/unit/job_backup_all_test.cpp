// Which domains --all backs up: a wrong choice either backs up what the
// administrator left out or, worse, silently drops a domain they listed.

#include "job/backup_all.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace virtsnap;
using Names = std::vector<std::string>;

TEST_CASE("--all: every domain but the excluded ones, in the connection's order") {
    const job::DomainChoice choice = job::choose_domains({"web", "db", "scratch"}, {}, {"scratch"});
    CHECK(choice.chosen == Names{"web", "db"});
    CHECK(choice.left_out == Names{"scratch"});
}

TEST_CASE("--include-domain: only those; a name the connection lacks stays, to fail loudly") {
    const job::DomainChoice choice = job::choose_domains({"web", "db", "scratch"}, {"ghost", "db"}, {});
    CHECK(choice.chosen == Names{"db", "ghost"});
    CHECK(choice.left_out == Names{"web", "scratch"});
}

TEST_CASE("--include-domain and --exclude-domain: the exclusion wins; a name is never chosen twice") {
    const job::DomainChoice choice =
        job::choose_domains({"web", "db"}, {"web", "db", "db", "gone"}, {"db", "gone"});
    CHECK(choice.chosen == Names{"web"});
    CHECK(choice.left_out == Names{"db"});
}
