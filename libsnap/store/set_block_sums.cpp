#include "store/set_block_sums.hpp"

#include "store/durable_file.hpp"
#include "util/error.hpp"

namespace virtsnap::store {

using util::quoted;

image::BlockSums read_block_sums(const std::string& dir, const xml::ManifestDisk& disk) {
    const std::string where = "disk " + quoted(disk.target) + " in " + quoted(dir);
    if (!disk.backup || !disk.backup->block_sums)
        throw util::InputError(where + " has no block sums (a set of another level, or made before "
                                       "virtsnap kept them)");
    const xml::BlockSumsFile& record = *disk.backup->block_sums;
    if (record.name != xml::block_sums_file_name(disk.target) || record.block_size != image::block_sum_size)
        throw util::InputError(where + ": its block sums are not named or sized as virtsnap keeps them");
    const std::uint64_t size = image::block_sums_file_size(disk.virtual_size);
    if (size > max_block_sums_file)
        throw util::InputError(where + ": block sums of a disk that large are not read");
    const std::string path = dir + "/" + record.name;
    const std::optional<std::string> bytes = read_if_exists(path, static_cast<std::size_t>(size));
    if (!bytes)
        throw util::InputError("block sums file " + quoted(path) + " is missing");
    if (image::block_sums_checksum(*bytes) != record.checksum)
        throw util::InputError("block sums file " + quoted(path) +
                               " does not match the checksum its manifest records (damaged?)");
    return image::BlockSums::parse(*bytes, disk.virtual_size, "block sums file " + quoted(path));
}

xml::BlockSumsFile block_sums_record(const std::string& name, const std::string& bytes) {
    return {name, image::block_sum_size, image::block_sums_checksum(bytes)};
}

} // namespace virtsnap::store
