#pragma once
// Backup sets on disk as virtsnap-backup lays them out, with chains of
// incremental sets, for the tests of everything that reads sets: a domain
// directory, a full set made by the copy engine from a source image, and
// incremental sets whose one layer per disk is a qcow2 backed by
// "../PARENT_ID/vda.qcow2", written with qemu-io and hashed as a layer.

#include "copy/source_chain.hpp"
#include "temp_dir.hpp"
#include "xml/manifest.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace virtsnap::test {

constexpr const char* chain_domain_uuid = "6f0e3b43-8d0a-4b1e-9a59-2d6d7e6a1c11";
constexpr std::uint64_t chain_disk_size = 4 << 20;

// "20261101-000000-000-000N": ids that sort as N does (N < 10).
std::string chain_set_id(int n);

class ChainSets {
  public:
    explicit ChainSets(const TempDir& dir);

    const std::filesystem::path& domain_dir() const noexcept { return domain_dir_; }
    std::filesystem::path set_dir(const std::string& id) const { return domain_dir_ / id; }

    // A full set of disk vda, copied from a qcow2 made with the qemu-io
    // commands (on a 4 MiB disk); keep_chain: the source is a chain of two
    // images, kept as two layers.
    // block_sums: with the block sums a level set keeps (vda.blocks).
    xml::Manifest add_full(const std::string& id, const std::vector<std::string>& writes,
                           bool keep_chain = false, bool block_sums = false);
    // An incremental set on parent: vda.qcow2 backed by ../PARENT/vda.qcow2
    // with the qemu-io commands applied, recorded with its own checksums.
    xml::Manifest add_inc(const std::string& id, const std::string& parent,
                          const std::vector<std::string>& writes);

    // Set id is a full of its own now (--synthetic-full): the chains of it
    // and of the sets above it end at its image.
    void made_full(const std::string& id);

    // Writes manifest.xml (and the marker, when complete).
    void write_manifest(const std::string& id, const xml::Manifest& manifest, bool complete = true) const;

    // The restore point's content: qemu-img convert of the set's vda.
    std::string content(const std::string& id) const;
    // What a restore point must hold: the source's content after the writes
    // of each set up to id.
    std::string expected(const std::string& id) const { return expected_.at(id); }

  private:
    std::string content_of(const std::string& image, const std::string& format) const;

    const TempDir& dir_;
    std::filesystem::path domain_dir_;
    std::map<std::string, std::vector<copy::SourceImage>> chains_; // vda's files, top first
    std::map<std::string, std::string> expected_;
};

} // namespace virtsnap::test
