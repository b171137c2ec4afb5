#include "verify/checksum_check.hpp"

#include "copy/content_copier.hpp"
#include "copy/image_map.hpp"
#include "copy/source_reader.hpp"
#include "util/duration.hpp"
#include "virt/qemu_img.hpp"

#include <algorithm>
#include <map>

namespace virtsnap::verify {

CheckOutcome check_checksums(const std::string& path, const std::string& format, bool layered,
                             const xml::BackupFile& recorded, std::uint64_t chunk_size) {
    std::vector<virt::ImageInfo> chain = virt::query_image_chain(path, format);
    copy::ImageLayers layers;
    for (const virt::ImageInfo& image : chain) {
        layers.paths.push_back(image.filename);
        layers.formats.push_back(image.format);
    }
    // qemu-img reports each backing file with the path it opened, relative
    // names resolved against the directory of the image that names them.
    layers.paths[0] = path;
    std::vector<copy::Extent> map = copy::query_image_map(path, format);
    const std::uint64_t size = chain[0].virtual_size;
    copy::CopyPlan plan = layered ? copy::plan_layer(map, size, false) : copy::plan_flattened(map, size);
    std::unique_ptr<copy::SourceReader> reader = copy::open_source_reader(layers, map, false);
    ContentHasher hasher(size, chunk_size);
    copy::copy_content(plan, *reader, nullptr, &hasher, nullptr);

    xml::BackupFile found;
    found.data_bytes = hasher.data_bytes();
    found.checksum = hasher.checksum();
    found.chunks = hasher.chunks();
    return compare_checksums(recorded, found, chunk_size);
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
