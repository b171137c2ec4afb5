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
    xml::Manifest& m = record.manifest;
    m.domain_name = "vm";
    m.domain_uuid = "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11";
    m.snapshot_id = "20261122-031500-abcd";
    m.snapshot_time = "2026-11-22T03:15:00Z";
    m.quiesced = true;
    m.freeze_ms = 12;
    xml::ManifestDisk vda;
    vda.target = "vda";
    vda.source_type = "file";
    vda.format = "qcow2";
    vda.frozen = "/img/top.qcow2";
    vda.overlay = "/img/top.virtsnap-20261122-031500-abcd.vda.qcow2";
    vda.virtual_size = 1 << 30;
    vda.chain = {{"/img/base.qcow2", "qcow2"}};
    m.disks.push_back(vda);
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
    REQUIRE(::stat(store::state_path(state, record.manifest.domain_uuid).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    std::optional<store::StateRecord> loaded = store::load_state(state, record.manifest.domain_uuid);
    REQUIRE(loaded);
    CHECK(loaded->stage == store::Stage::snapshotted);
    CHECK(xml::to_xml(loaded->manifest) == xml::to_xml(record.manifest));

    store::remove_state(state, record.manifest.domain_uuid);
    CHECK_FALSE(store::load_state(state, record.manifest.domain_uuid));
}

TEST_CASE("state record: the record is a manifest other tools can read") {
    test::TempDir dir;
    store::save_state(dir.path().string(), sample());
    std::string text = test::read_file(store::state_path(dir.path().string(), sample().manifest.domain_uuid));
    CHECK(text.find("<journal stage=\"snapshotted\"/>") != std::string::npos);
    CHECK(xml::parse_manifest(text, "t").snapshot_id == "20261122-031500-abcd");
}

TEST_CASE("state record: damaged or foreign records are input errors, never guessed at") {
    test::TempDir dir;
    const std::string state = dir.path().string();
    const std::string uuid = sample().manifest.domain_uuid;
    store::save_state(state, sample());
    std::string text = test::read_file(store::state_path(state, uuid));

    test::write_file(store::state_path(state, uuid), text.substr(0, text.size() / 2));
    CHECK_THROWS_AS(store::load_state(state, uuid), util::InputError);

    std::string no_stage = text;
    no_stage.replace(no_stage.find("snapshotted"), 11, "halfway");
    test::write_file(store::state_path(state, uuid), no_stage);
    CHECK_THROWS_WITH_AS(store::load_state(state, uuid), doctest::Contains("journal stage"),
                         util::InputError);

    const std::string other = "00000000-0000-4000-8000-000000000001";
    test::write_file(store::state_path(state, other), text);
    CHECK_THROWS_WITH_AS(store::load_state(state, other), doctest::Contains("belongs to domain"),
                         util::InputError);
}
