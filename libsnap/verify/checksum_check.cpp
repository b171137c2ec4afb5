#include "verify/checksum_check.hpp"

#include "copy/content_copier.hpp"
#include "copy/source_chain.hpp"
#include "image/content_hash.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <algorithm>
#include <map>

namespace virtsnap::verify {

copy::SourceChain open_backup_file(const std::string& dir, const xml::DiskBackup& backup, std::size_t index,
                                   std::uint64_t disk_size) {
    std::vector<copy::SourceImage> chain;
    for (std::size_t i = index; i < backup.files.size(); ++i)
        chain.push_back({dir + "/" + backup.files[i].name, i == 0 ? backup.format : "qcow2"});
    return copy::SourceChain::open(chain, image::ImageOrigin::backup_set,
                                   index == 0 ? std::optional<std::uint64_t>(disk_size) : std::nullopt,
                                   "backup file " + util::quoted(chain.front().path));
}

CheckOutcome hash_and_compare(const copy::CopyPlan& plan, copy::SourceReader& reader,
                              const xml::DiskBackup& backup, std::size_t index) {
    image::ContentHasher hasher(plan.virtual_size, backup.chunk_size);
    copy::copy_content(plan, reader, nullptr, &hasher, nullptr);
    xml::BackupFile found;
    found.data_bytes = hasher.data_bytes();
    found.checksum = hasher.checksum();
    found.chunks = hasher.chunks();
    return compare_checksums(backup.files.at(index), found, backup.chunk_size);
}

CheckOutcome check_checksums(const std::string& dir, const xml::DiskBackup& backup, std::size_t index,
                             std::uint64_t disk_size) {
    const copy::SourceChain source = open_backup_file(dir, backup, index, disk_size);
    const std::vector<image::Extent> map = source.map(0);
    const copy::CopyPlan plan = backup.flattened ? copy::plan_flattened(map, source.size())
                                                 : copy::plan_layer(map, source.size(), false);
    std::unique_ptr<copy::SourceReader> reader = source.reader(0, map);
    return hash_and_compare(plan, *reader, backup, index);
}

CheckOutcome compare_checksums(const xml::BackupFile& recorded, const xml::BackupFile& found,
                               std::uint64_t chunk_size) {
    std::map<std::uint64_t, std::string> expected, actual;
    for (const xml::ChunkChecksum& chunk : recorded.chunks)
        expected[chunk.offset] = chunk.hash;
    for (const xml::ChunkChecksum& chunk : found.chunks)
        actual[chunk.offset] = chunk.hash;
    std::vector<std::uint64_t> damaged;
    for (const auto& [offset, hash] : expected) {
        auto it = actual.find(offset);
        if (it == actual.end() || it->second != hash)
            damaged.push_back(offset);
    }
    for (const auto& [offset, hash] : actual)
        if (expected.count(offset) == 0)
            damaged.push_back(offset);
    std::sort(damaged.begin(), damaged.end());
    if (damaged.empty() && found.checksum == recorded.checksum)
        return {true, "checksums match (" + std::to_string(expected.size()) + " chunk(s), " +
                          util::format_size(found.data_bytes) + " of data)"};
    std::string detail = "checksum mismatch: " + std::to_string(damaged.size()) + " damaged chunk(s) of " +
                         util::format_size(chunk_size) + " at offset";
    for (size_t i = 0; i < damaged.size() && i < 8; ++i)
        detail += (i ? ", " : " ") + std::to_string(damaged[i]);
    if (damaged.size() > 8)
        detail += ", ...";
    if (damaged.empty())
        detail = "checksum mismatch: the whole-disk checksum differs";
    return {false, detail};
}

} // namespace virtsnap::verify
