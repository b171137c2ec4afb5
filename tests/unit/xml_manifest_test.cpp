#include "temp_dir.hpp"
#include "util/error.hpp"
#include "xml/manifest.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

using namespace virtsnap;
using xml::Manifest;

namespace {

Manifest sample() {
    Manifest m;
    m.domain_name = "web & db <prod>";
    m.domain_uuid = "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11";
    m.snapshot_id = "20261122T031500Z-1a2b3c";
    m.snapshot_time = "2026-11-22T03:15:00Z";
    m.quiesced = true;
    m.freeze_ms = 42;
    xml::ManifestDisk vda;
    vda.target = "vda";
    vda.source_type = "file";
    vda.format = "qcow2";
    vda.frozen = "/var/lib/libvirt/images/top.qcow2";
    vda.overlay = "/var/lib/libvirt/images/top.virtsnap-20261122T031500Z-1a2b3c.qcow2";
    vda.virtual_size = 10737418240;
    vda.chain = {{"/var/lib/libvirt/images/base.qcow2", "qcow2"}};
    xml::ManifestDisk vdb;
    vdb.target = "vdb";
    vdb.source_type = "file";
    vdb.format = "raw";
    vdb.frozen = "/srv/my vm/data disk é.raw";
    vdb.overlay = "/srv/my vm/data disk é.virtsnap-20261122T031500Z-1a2b3c.qcow2";
    vdb.virtual_size = 1073741824;
    m.disks = {vda, vdb};
    return m;
}

std::string golden_path(const char* name) {
    return (std::filesystem::path(VIRTSNAP_TEST_DATA_DIR) / "manifests" / name).string();
}

// The sample's XML with one substitution, for hostile variants.
std::string sample_with(const std::string& from, const std::string& to) {
    std::string text = xml::to_xml(sample());
    size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

void check_rejected(const std::string& text, const std::string& expected) {
    CAPTURE(expected);
    CHECK_THROWS_WITH_AS(xml::parse_manifest(text, "manifest"), doctest::Contains(expected.c_str()),
                         util::InputError);
}

} // namespace

TEST_CASE("golden: a manifest serialises to the documented XML") {
    std::string text = xml::to_xml(sample());
    if (std::getenv("VIRTSNAP_REGENERATE_GOLDEN"))
        test::write_file(golden_path("two-disks.xml"), text);
    CHECK(test::read_file(golden_path("two-disks.xml")) == text);
}

TEST_CASE("a manifest survives a round trip, failures included") {
    Manifest m = sample();
    m.failures.push_back({"virtsnap-copy", "destination '/backup' is full"});
    Manifest back = xml::parse_manifest(xml::to_xml(m), "round trip");
    CHECK(xml::to_xml(back) == xml::to_xml(m));
    CHECK(back.domain_name == "web & db <prod>");
    CHECK(back.disks.at(1).frozen == "/srv/my vm/data disk é.raw");
    CHECK(back.disks.at(0).chain.at(0).path == "/var/lib/libvirt/images/base.qcow2");
    CHECK(back.failed());
    CHECK(back.failures.at(0).message == "destination '/backup' is full");
    CHECK(back.find_disk("vdb") != nullptr);
    CHECK(back.find_disk("vdz") == nullptr);
}

TEST_CASE("a crash-consistent snapshot has no freeze window") {
    Manifest m = sample();
    m.quiesced = false;
    m.freeze_ms = -1;
    std::string text = xml::to_xml(m);
    CHECK(text.find("freeze-ms") == std::string::npos);
    CHECK(xml::parse_manifest(text, "m").freeze_ms == -1);
}

TEST_CASE("truncated and empty manifests are input errors") {
    std::string text = xml::to_xml(sample());
    check_rejected(text.substr(0, text.size() / 2), "not valid XML");
    check_rejected("", "is empty");
    check_rejected("<domain/>", "root element is <domain>");
}

TEST_CASE("hostile manifests are refused before any field is used") {
    check_rejected(
        sample_with("/var/lib/libvirt/images/top.virtsnap", "/var/lib/libvirt/images/../../../etc/passwd"),
        "not a clean absolute path");
    check_rejected(sample_with("\"/var/lib/libvirt/images/top.virtsnap", "\"relative/top.virtsnap"),
                   "not a clean absolute path");
    check_rejected(sample_with("6f0e3b43-8d0a", "6f0e3b43-8d0a-"), "UUID");
    check_rejected(sample_with("20261122T031500Z-1a2b3c\" time", "../x\" time"), "snapshot id");
    check_rejected(sample_with("target=\"vdb\"", "target=\"vda\""), "appears twice");
    check_rejected(sample_with("target=\"vdb\"", "target=\"vd/b\""), "target");
    check_rejected(sample_with("type=\"file\"", "type=\"network\""), "type must be file or block");
    check_rejected(sample_with("format=\"raw\"", "format=\"rbd:pool/x\""), "format");
    check_rejected(sample_with("virtual-size=\"1073741824\"", "virtual-size=\"-1\""), "whole number");
    check_rejected(sample_with("virtual-size=\"1073741824\"", "virtual-size=\"99999999999999999999\""),
                   "out of range");
    check_rejected(sample_with("quiesced=\"yes\"", "quiesced=\"maybe\""), "yes or no");
    check_rejected(sample_with("version=\"1\"", "version=\"99\""), "not supported");
    check_rejected(
        sample_with("<overlay path=\"/var/lib/libvirt/images/top.virtsnap-20261122T031500Z-1a2b3c.qcow2\"/>",
                    "<overlay path=\"/var/lib/libvirt/images/top.qcow2\"/>"),
        "overlay is the frozen image");
    check_rejected(
        sample_with("<domain ", "<domain name=\"x\" uuid=\"6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11\"/><domain "),
        "exactly one <domain>");
}

TEST_CASE("field validators") {
    CHECK(xml::is_valid_snapshot_id("20261122T031500Z-1a2b3c"));
    CHECK_FALSE(xml::is_valid_snapshot_id("a/b"));
    CHECK_FALSE(xml::is_valid_snapshot_id(""));
    CHECK_FALSE(xml::is_valid_snapshot_id(std::string(65, 'a')));
    CHECK(xml::is_valid_target("vda"));
    CHECK(xml::is_valid_target("sdaa1"));
    CHECK_FALSE(xml::is_valid_target("VDA"));
    CHECK(xml::is_valid_uuid("6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11"));
    CHECK_FALSE(xml::is_valid_uuid("6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c1g"));
}

namespace {

Manifest copied() {
    Manifest m = sample();
    m.backup_dir = "/backup/web";
    xml::DiskBackup backup;
    backup.format = "qcow2";
    backup.flattened = false;
    backup.compressed = true;
    backup.chunk_size = 64 << 20;
    backup.source_options = xml::Qcow2Options{65536, "1.1", true, false};
    xml::BackupFile top{
        "vda.qcow2",
        "vda.1.qcow2",
        2490368,
        2097152,
        "xxh3-128:" + std::string(32, 'a'),
        {{0, "xxh3-128:" + std::string(32, 'b')}, {67108864, "xxh3-128:" + std::string(32, 'c')}},
        ""};
    xml::BackupFile base{"vda.1.qcow2", "", 11862016, 11534336, "xxh3-128:" + std::string(32, 'd'), {}, ""};
    backup.files = {top, base};
    m.disks[0].backup = backup;
    m.disks[0].verifications.push_back({"source", "ok", "identical to the frozen image"});
    return m;
}

} // namespace

TEST_CASE("a copied and verified manifest survives a round trip") {
    Manifest m = copied();
    Manifest back = xml::parse_manifest(xml::to_xml(m), "round trip");
    CHECK(xml::to_xml(back) == xml::to_xml(m));
    REQUIRE(back.disks[0].backup);
    CHECK(back.disks[0].backup->files.size() == 2);
    CHECK(back.disks[0].backup->files[0].chunks.size() == 2);
    CHECK(back.disks[0].backup->source_options->lazy_refcounts);
    CHECK(back.disks[0].verifications.at(0).detail == "identical to the frozen image");
    CHECK_FALSE(back.disks[1].backup);
    CHECK(back.backup_dir == "/backup/web");
}

TEST_CASE("hostile backup records are refused") {
    const std::string text = xml::to_xml(copied());
    auto with = [&](const std::string& from, const std::string& to) {
        std::string changed = text;
        size_t at = changed.find(from);
        REQUIRE(at != std::string::npos);
        return changed.replace(at, from.size(), to);
    };
    check_rejected(with("name=\"vda.1.qcow2\"", "name=\"../../etc/shadow\""), "plain file name");
    check_rejected(with("backing=\"vda.1.qcow2\"", "backing=\"/etc/passwd\""), "plain file name");
    check_rejected(with("backing=\"vda.1.qcow2\"", "backing=\"vdb.qcow2\""), "next file as its backing");
    check_rejected(with("xxh3-128:aaaa", "md5:aaaa"), "checksum");
    check_rejected(with("offset=\"67108864\"", "offset=\"100\""), "chunk boundary");
    check_rejected(with("format=\"qcow2\" flattened", "format=\"vmdk\" flattened"), "qcow2 or raw");
    check_rejected(with("result=\"ok\"", "result=\"fine\""), "ok or mismatch");
    check_rejected(with("<backup-dir path=\"/backup/web\"", "<backup-dir path=\"backup/../web\""),
                   "clean absolute path");
}

namespace {

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

const char* const schema_refusal = "does not follow the manifest schema";

} // namespace

TEST_CASE("the schema refuses what the field checks never look at") {
    const std::string text = xml::to_xml(copied());
    // An element inside <disk> no tool reads.
    check_rejected(replaced(text, "<frozen ", "<hook command=\"/bin/sh\"/>\n      <frozen "), schema_refusal);
    // An attribute on <snapshot> no tool reads.
    check_rejected(replaced(text, "<snapshot ", "<snapshot keep-forever=\"yes\" "), schema_refusal);
    // <backup-dir> before <disks>: every element is read by path, only the schema sees the order.
    const std::string backup_dir = "<backup-dir path=\"/backup/web\"/>";
    std::string moved = replaced(text, backup_dir, "");
    check_rejected(replaced(moved, "<disks>", backup_dir + "\n  <disks>"), schema_refusal);
    // The same manifests without the change pass.
    CHECK_NOTHROW(xml::parse_manifest(text, "manifest"));
}

TEST_CASE("the schema's refusal names the line") {
    const std::string text = replaced(xml::to_xml(sample()), "<snapshot ", "<snapshot extra=\"1\" ");
    const size_t line =
        1 + static_cast<size_t>(std::count(text.begin(), text.begin() + text.find("extra="), '\n'));
    check_rejected(text, std::string(schema_refusal) + ": line " + std::to_string(line) + ":");
}

TEST_CASE("sizes and offsets that do not fit the disk are refused") {
    const std::string text = xml::to_xml(copied()); // vda: 10 GiB, 64 MiB chunks
    check_rejected(replaced(text, "data-bytes=\"2097152\"", "data-bytes=\"10737418241\""),
                   "data-bytes 10737418241 exceed the disk's size 10737418240");
    CHECK_NOTHROW(
        xml::parse_manifest(replaced(text, "data-bytes=\"2097152\"", "data-bytes=\"10737418240\""), "m"));
    check_rejected(replaced(text, "offset=\"67108864\"", "offset=\"10737418240\""),
                   "chunk offset 10737418240 lies beyond the disk's end");
    check_rejected(replaced(text, "offset=\"67108864\"", "offset=\"18446744073642442752\""),
                   "lies beyond the disk's end");
    check_rejected(replaced(text, "flattened=\"no\"", "flattened=\"yes\""),
                   "a flattened backup is one file, not 2");
}

TEST_CASE("a virtual size above QEMU's limit of 2^63-512 is refused") {
    const std::string limit = "virtual-size=\"9223372036854775296\"";
    CHECK(xml::parse_manifest(sample_with("virtual-size=\"1073741824\"", limit), "m")
              .disks.at(1)
              .virtual_size == 9223372036854775296ULL);
    check_rejected(sample_with("virtual-size=\"1073741824\"", "virtual-size=\"9223372036854775297\""),
                   "virtual-size 9223372036854775297 is out of range");
    check_rejected(sample_with("virtual-size=\"1073741824\"", "virtual-size=\"18446744073709551615\""),
                   "is out of range");
}

TEST_CASE("a manifest using a 200 KB entity 5,000 times is refused in well under a second") {
    const std::string entity(200 * 1024, 'A');
    std::string uses;
    for (int i = 0; i < 5000; ++i)
        uses += "&big;";
    std::string text = xml::to_xml(sample());
    const size_t after_declaration = text.find('\n') + 1;
    text.insert(after_declaration, "<!DOCTYPE virtsnap-manifest [<!ENTITY big \"" + entity + "\">]>\n");
    text = replaced(text, "name=\"web &amp; db &lt;prod&gt;\"", "name=\"" + uses + "\"");
    const auto start = std::chrono::steady_clock::now();
    check_rejected(text, "DTD");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
}

namespace {

// An incremental set: vda's one layer is backed by the parent set's image.
Manifest incremental() {
    Manifest m = copied();
    m.level = "inc";
    m.parent = "20261121-031500-000-0001";
    m.disks[0].backup->files = {m.disks[0].backup->files.front()};
    m.disks[0].backup->files[0].backing = "vda.qcow2";
    m.disks[0].backup->files[0].backing_set = m.parent;
    m.disks[0].backup->compressed = false;
    m.disks.resize(1);
    return m;
}

} // namespace

TEST_CASE("an incremental set's level, parent and backing set survive a round trip") {
    Manifest m = incremental();
    m.level_reason = "a full was asked for by --level";
    const Manifest back = xml::parse_manifest(xml::to_xml(m), "round trip");
    CHECK(xml::to_xml(back) == xml::to_xml(m));
    CHECK(back.level == "inc");
    CHECK(back.parent == m.parent);
    CHECK(back.level_reason == m.level_reason);
    CHECK(back.disks[0].backup->files[0].backing_set == m.parent);
    // A manifest without <level> (other tools, sets made before levels).
    CHECK(xml::parse_manifest(xml::to_xml(copied()), "plain").level.empty());
}

TEST_CASE("a hostile level or backing set is refused") {
    const std::string text = xml::to_xml(incremental());
    check_rejected(replaced(text, "kind=\"inc\"", "kind=\"merged\""), "not copy, full, inc or diff");
    // A diff hangs on its parent (the chain's full) as an inc does.
    CHECK(xml::parse_manifest(replaced(text, "kind=\"inc\"", "kind=\"diff\""), "diff").on_parent());
    check_rejected(replaced(text, "kind=\"inc\"", "kind=\"full\""), "only an incremental set has a parent");
    check_rejected(replaced(text, " parent=\"20261121-031500-000-0001\"", ""), "names no parent");
    // A parent that is not older: a loop, or a set not made before this one.
    check_rejected(
        replaced(text, "parent=\"20261121-031500-000-0001\"", "parent=\"20991231-000000-000-0000\""),
        "not the id of an earlier set");
    check_rejected(replaced(text, "backing-set=\"20261121-031500-000-0001\"", "backing-set=\"..\""),
                   "is not a set id");
    check_rejected(replaced(text, "backing-set=\"20261121-031500-000-0001\"",
                            "backing-set=\"20261120-031500-000-0001\""),
                   "not backed by its parent set");
    check_rejected(replaced(text, "backing=\"vda.qcow2\"", "backing=\"vdb.qcow2\""),
                   "not a name virtsnap gives");
    check_rejected(replaced(text, "<level kind=\"inc\" parent=\"20261121-031500-000-0001\"/>", ""),
                   "not incremental");
}

TEST_CASE("block sums and an incremental taken by content survive a round trip") {
    Manifest m = incremental();
    m.by_content = true;
    m.level_reason = "inc asked for, inc by content taken: the domain has no change record";
    m.disks[0].backup->block_sums =
        xml::BlockSumsFile{"vda.blocks", 65536, "xxh3-128:" + std::string(32, 'e')};
    const std::string text = xml::to_xml(m);
    CHECK(text.find("<block-sums name=\"vda.blocks\" block-size=\"65536\" checksum=\"xxh3-128:eeee") !=
          std::string::npos);
    CHECK(text.find("by=\"content\"") != std::string::npos);
    const Manifest back = xml::parse_manifest(text, "round trip");
    CHECK(xml::to_xml(back) == text);
    CHECK(back.by_content);
    REQUIRE(back.disks[0].backup->block_sums);
    CHECK(back.disks[0].backup->block_sums->name == "vda.blocks");
    CHECK(back.disks[0].backup->block_sums->block_size == 65536);
    // Without them (other tools, sets made before them, a normal inc).
    const Manifest plain = xml::parse_manifest(xml::to_xml(incremental()), "plain");
    CHECK_FALSE(plain.by_content);
    CHECK_FALSE(plain.disks[0].backup->block_sums);
}

TEST_CASE("hostile block sums records and level bases are refused") {
    Manifest m = incremental();
    m.by_content = true;
    m.disks[0].backup->block_sums =
        xml::BlockSumsFile{"vda.blocks", 65536, "xxh3-128:" + std::string(32, 'e')};
    const std::string text = xml::to_xml(m);
    check_rejected(replaced(text, "name=\"vda.blocks\"", "name=\"../vda.blocks\""),
                   "the name virtsnap gives");
    check_rejected(replaced(text, "name=\"vda.blocks\"", "name=\"vdb.blocks\""), "the name virtsnap gives");
    check_rejected(replaced(text, "name=\"vda.blocks\"", "name=\"vda.qcow2\""), "the name virtsnap gives");
    check_rejected(replaced(text, "block-size=\"65536\"", "block-size=\"4096\""),
                   "virtsnap keeps them of 65536");
    check_rejected(replaced(text, "block-size=\"65536\"", "block-size=\"-1\""), "block-size");
    check_rejected(replaced(text, "checksum=\"xxh3-128:eeee", "checksum=\"md5:eeee"), "block sums checksum");
    check_rejected(replaced(text, " checksum=\"xxh3-128:eeee", " sum=\"xxh3-128:eeee"), "checksum");
    check_rejected(replaced(text, "by=\"content\"", "by=\"guess\""), "level basis");
    // Only an incremental is taken by content.
    Manifest full = copied();
    full.level = "full";
    check_rejected(replaced(xml::to_xml(full), "<level kind=\"full\"", "<level kind=\"full\" by=\"content\""),
                   "only an incremental set is taken by content");
}
