#include "chain_sets.hpp"

#include "copy/content_copier.hpp"
#include "copy/disk_copy.hpp"
#include "copy/output_files.hpp"
#include "image/content_hash.hpp"
#include "store/backup_set.hpp"
#include "store/set_layout.hpp"
#include "util/log.hpp"
#include "util/subprocess.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

namespace virtsnap::test {

namespace fs = std::filesystem;

namespace {

void apply(const std::string& image, const std::vector<std::string>& writes) {
    std::vector<std::string> argv{"qemu-io", "-f", "qcow2"};
    for (const std::string& write : writes)
        argv.insert(argv.end(), {"-c", write});
    argv.push_back(image);
    if (!writes.empty())
        util::run_checked(argv);
}

xml::Manifest manifest_of(const std::string& id, const std::string& level, const std::string& parent) {
    xml::Manifest m;
    m.domain_name = "web";
    m.domain_uuid = chain_domain_uuid;
    m.snapshot_id = id;
    m.snapshot_time = "2026-11-01T00:00:00Z";
    m.offline = true;
    m.level = level;
    m.parent = parent;
    return m;
}

xml::ManifestDisk disk_of(const std::string& image) {
    xml::ManifestDisk disk;
    disk.target = "vda";
    disk.source_type = "file";
    disk.format = "qcow2";
    disk.frozen = image;
    disk.virtual_size = chain_disk_size;
    return disk;
}

} // namespace

std::string chain_set_id(int n) {
    return "20261101-000000-000-000" + std::to_string(n);
}

ChainSets::ChainSets(const TempDir& dir) : dir_(dir), domain_dir_(dir / "web") {
    fs::create_directories(domain_dir_);
}

xml::Manifest ChainSets::add_full(const std::string& id, const std::vector<std::string>& writes,
                                  bool keep_chain, bool block_sums) {
    const std::string source = (dir_ / ("source-" + id + ".qcow2")).string();
    xml::ManifestDisk disk = disk_of(source);
    if (keep_chain) {
        const std::string base = (dir_ / ("base-" + id + ".qcow2")).string();
        util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", base, std::to_string(chain_disk_size)});
        util::run_checked({"qemu-io", "-f", "qcow2", "-c", "write -P 0x11 1M 128k", base});
        util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, source});
        disk.chain.push_back({base, "qcow2"});
    } else {
        util::run_checked(
            {"qemu-img", "create", "-q", "-f", "qcow2", source, std::to_string(chain_disk_size)});
    }
    apply(source, writes);
    xml::Manifest m = manifest_of(id, "full", "");
    m.disks.push_back(disk);
    fs::create_directory(set_dir(id));
    const util::Log quiet("test", util::Verbosity::quiet);
    copy::OutputFiles outputs(set_dir(id).string());
    copy::CopySettings settings;
    settings.keep_chain = keep_chain;
    settings.block_sums = block_sums;
    settings.publish_each_disk = true;
    copy::copy_disks(m, settings, outputs, quiet);
    m.backup_dir.clear();
    write_manifest(id, m);
    for (const xml::BackupFile& file : m.disks[0].backup->files)
        chains_[id].push_back({(set_dir(id) / file.name).string(), "qcow2"});
    // The reference: the whole disk as one image, written to alongside.
    const std::string reference = (dir_ / ("reference-" + id + ".qcow2")).string();
    util::run_checked({"qemu-img", "convert", "-f", "qcow2", "-O", "qcow2", source, reference});
    expected_[id] = content_of(reference, "qcow2");
    return m;
}

xml::Manifest ChainSets::add_inc(const std::string& id, const std::string& parent,
                                 const std::vector<std::string>& writes) {
    fs::create_directory(set_dir(id));
    const std::string layer = (set_dir(id) / "vda.qcow2").string();
    util::run_checked({"qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                       "../" + parent + "/vda.qcow2", layer});
    apply(layer, writes);

    std::vector<copy::SourceImage> chain{{layer, "qcow2"}};
    for (const copy::SourceImage& below : chains_.at(parent))
        chain.push_back(below);
    const copy::SourceChain source =
        copy::SourceChain::open(chain, image::ImageOrigin::backup_set, chain_disk_size, "test layer");
    const std::vector<image::Extent> map = source.map(0);
    const copy::CopyPlan plan = copy::plan_layer(map, source.size(), false);
    std::unique_ptr<copy::SourceReader> reader = source.reader(0, map);
    image::ContentHasher hasher(plan.virtual_size, image::default_chunk_size);
    copy::copy_content(plan, *reader, nullptr, &hasher, nullptr);
    struct stat st {};
    REQUIRE(::stat(layer.c_str(), &st) == 0);

    xml::DiskBackup backup;
    backup.format = "qcow2";
    backup.flattened = false;
    backup.chunk_size = image::default_chunk_size;
    backup.files.push_back({"vda.qcow2", "vda.qcow2", static_cast<std::uint64_t>(st.st_blocks) * 512,
                            hasher.data_bytes(), hasher.checksum(), hasher.chunks(), parent});
    xml::Manifest m = manifest_of(id, "inc", parent);
    m.disks.push_back(disk_of("/var/lib/libvirt/images/web.qcow2"));
    m.disks[0].backup = backup;
    write_manifest(id, m);
    chains_[id] = chain;

    const std::string reference = (dir_ / ("reference-" + id + ".qcow2")).string();
    fs::copy_file(dir_ / ("reference-" + parent + ".qcow2"), reference);
    apply(reference, writes);
    expected_[id] = content_of(reference, "qcow2");
    return m;
}

void ChainSets::made_full(const std::string& id) {
    const std::string image = (set_dir(id) / "vda.qcow2").string();
    for (auto& [set, chain] : chains_)
        for (std::size_t i = 0; i < chain.size(); ++i)
            if (chain[i].path == image) {
                chain.resize(i + 1);
                break;
            }
}

void ChainSets::write_manifest(const std::string& id, const xml::Manifest& manifest, bool complete) const {
    write_file(set_dir(id) / store::set_manifest_file, xml::to_xml(manifest));
    if (complete)
        store::mark_complete(set_dir(id).string(), id);
}

std::string ChainSets::content(const std::string& id) const {
    return content_of((set_dir(id) / "vda.qcow2").string(), "qcow2");
}

std::string ChainSets::content_of(const std::string& image, const std::string& format) const {
    const fs::path raw = dir_ / "content.raw";
    fs::remove(raw);
    util::run_checked({"qemu-img", "convert", "-f", format, "-O", "raw", image, raw.string()});
    return read_file(raw);
}

} // namespace virtsnap::test
