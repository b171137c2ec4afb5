#include "store/state_record.hpp"
#include "temp_dir.hpp"
#include "util/error.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace virtsnap;

namespace {

store::StateRecord sample() {
    store::StateRecord record;
    record.stage = store::Stage::snapshotted;
    record.domain_name = "vm & <test>";
    record.domain_uuid = "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11";
    record.snapshot_id = "20261122-031500-abcd";
    record.quiesce = true;
    record.set_dir = "/backup/vm/20261122-031500-abcd";
    xml::SnapshotDisk vda;
    vda.target = "vda";
    vda.source_type = "file";
    vda.format = "qcow2";
    vda.frozen = "/img/top.qcow2";
    vda.overlay = "/img/top.virtsnap-20261122-031500-abcd.vda.qcow2";
    vda.virtual_size = 1000000;
    vda.chain = {{"/img/base.qcow2", "qcow2"}};
    record.disks.push_back(vda);
    return record;
}

} // namespace

TEST_CASE("state record: saved privately, read back whole with its stage") {
    test::TempDir dir;
    const std::string state = (dir / "state").string();
    store::StateRecord record = sample();
    store::save_state(state, record);
    struct stat st {};
    REQUIRE(::stat(state.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    REQUIRE(::stat(store::state_path(state, record.domain_uuid).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    std::optional<store::StateRecord> loaded = store::load_state(state, record.domain_uuid);
    REQUIRE(loaded);
    CHECK(loaded->stage == store::Stage::snapshotted);
    CHECK(store::to_xml(*loaded) == store::to_xml(record));
    CHECK(loaded->domain_name == "vm & <test>");
    CHECK(loaded->quiesce);
    CHECK(loaded->set_dir == "/backup/vm/20261122-031500-abcd");
    REQUIRE(loaded->disks.size() == 1);
    CHECK(loaded->disks[0].virtual_size == 1000000);
    CHECK(loaded->disks[0].chain.at(0).path == "/img/base.qcow2");

    store::remove_state(state, record.domain_uuid);
    CHECK_FALSE(store::load_state(state, record.domain_uuid));
}

TEST_CASE("state record: a document of its own, written once, not a manifest") {
    const std::string text = store::to_xml(sample());
    CHECK(text.find("<virtsnap-state version=\"1\" stage=\"snapshotted\">") != std::string::npos);
    CHECK(text.find("<set path=\"/backup/vm/20261122-031500-abcd\"/>") != std::string::npos);
    CHECK_THROWS_WITH_AS(xml::parse_manifest(text, "t"), doctest::Contains("root element"), util::InputError);
    store::StateRecord bare = sample();
    bare.set_dir.clear();
    bare.disks.clear();
    CHECK(store::to_xml(store::parse_state_record(store::to_xml(bare), "t")) == store::to_xml(bare));
}

TEST_CASE("state record: damaged or foreign records are input errors, never guessed at") {
    test::TempDir dir;
    const std::string state = dir.path().string();
    const std::string uuid = sample().domain_uuid;
    store::save_state(state, sample());
    std::string text = test::read_file(store::state_path(state, uuid));

    test::write_file(store::state_path(state, uuid), text.substr(0, text.size() / 2));
    CHECK_THROWS_AS(store::load_state(state, uuid), util::InputError);

    std::string no_stage = text;
    no_stage.replace(no_stage.find("snapshotted"), 11, "halfway");
    test::write_file(store::state_path(state, uuid), no_stage);
    CHECK_THROWS_WITH_AS(store::load_state(state, uuid), doctest::Contains("stage 'halfway'"),
                         util::InputError);

    std::string traversal = text;
    traversal.replace(traversal.find("/backup/vm"), 10, "backup/../vm");
    test::write_file(store::state_path(state, uuid), traversal);
    CHECK_THROWS_WITH_AS(store::load_state(state, uuid), doctest::Contains("clean absolute path"),
                         util::InputError);

    const std::string other = "00000000-0000-4000-8000-000000000001";
    test::write_file(store::state_path(state, other), text);
    CHECK_THROWS_WITH_AS(store::load_state(state, other), doctest::Contains("belongs to domain"),
                         util::InputError);
}

TEST_CASE("state record: a DTD, a FIFO or a link in its place is refused, never read") {
    test::TempDir dir;
    const std::string state = dir.path().string();
    const std::string uuid = sample().domain_uuid;
    const std::string path = store::state_path(state, uuid);
    std::string text = store::to_xml(sample());
    text.insert(text.find("<virtsnap-state"), "<!DOCTYPE virtsnap-state [<!ENTITY x 'y'>]>\n");
    test::write_file(path, text);
    CHECK_THROWS_WITH_AS(store::load_state(state, uuid), doctest::Contains("DTD"), util::InputError);
    std::filesystem::remove(path);
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    CHECK_THROWS_WITH_AS(store::load_state(state, uuid), doctest::Contains("FIFO"), util::InputError);
    std::filesystem::remove(path);
    std::filesystem::create_symlink("/dev/zero", path);
    CHECK_THROWS_WITH_AS(store::load_state(state, uuid), doctest::Contains("symbolic link"),
                         util::InputError);
}

TEST_CASE("state record: stage keeping and the kept overlay below read back; a malformed one is refused") {
    store::StateRecord record = sample();
    record.stage = store::Stage::keeping;
    record.below = "20261121-031500-0001";
    const std::string text = store::to_xml(record);
    CHECK(text.find("stage=\"keeping\"") != std::string::npos);
    CHECK(text.find("below=\"20261121-031500-0001\"") != std::string::npos);
    const store::StateRecord back = store::parse_state_record(text, "t");
    CHECK(back.stage == store::Stage::keeping);
    CHECK(back.below == "20261121-031500-0001");
    CHECK(store::to_xml(back) == text);

    test::TempDir dir;
    store::save_state(dir.path().string(), record);
    const std::optional<store::StateRecord> loaded =
        store::load_state(dir.path().string(), record.domain_uuid);
    REQUIRE(loaded);
    CHECK(loaded->stage == store::Stage::keeping);
    CHECK(loaded->below == record.below);

    // Without one, none is written and none read.
    store::StateRecord plain = sample();
    CHECK(store::to_xml(plain).find("below") == std::string::npos);
    CHECK(store::parse_state_record(store::to_xml(plain), "t").below.empty());

    for (const char* bad : {"../20261121-031500-0001", "a b", "x/y", "20261121.031500"}) {
        CAPTURE(bad);
        std::string hostile = text;
        hostile.replace(hostile.find("20261121-031500-0001"), 20, bad);
        CHECK_THROWS_WITH_AS(store::parse_state_record(hostile, "t"),
                             doctest::Contains("of the overlay below is malformed"), util::InputError);
    }
    std::string stage = text;
    stage.replace(stage.find("keeping"), 7, "kept");
    CHECK_THROWS_WITH_AS(store::parse_state_record(stage, "t"), doctest::Contains("stage 'kept'"),
                         util::InputError);
}
