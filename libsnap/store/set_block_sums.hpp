#pragma once
// The block sums a level set keeps of each disk (TARGET.blocks beside its
// image, image/block_sums.hpp), read back as input from outside: the file
// the set's manifest names, opened without following a link, a regular
// file of exactly the length the disk's sums take, and matching the
// checksum the manifest records for it.

#include "image/block_sums.hpp"
#include "xml/manifest.hpp"

#include <string>

namespace virtsnap::store {

// The largest block sums file read: that of a 16 TiB disk (2 GiB). A larger disk's
// set offers none (a run that would compare with them takes a full).
constexpr std::uint64_t max_block_sums_file = (16ULL << 40) / image::block_sum_size * 8 + 32;

// Throws InputError saying why the sums of disk in the set at dir cannot be
// used (none recorded, missing, too large, damaged, another checksum).
image::BlockSums read_block_sums(const std::string& dir, const xml::ManifestDisk& disk);

// The record of sums the manifest keeps for them, once written as name.
xml::BlockSumsFile block_sums_record(const std::string& name, const std::string& bytes);

} // namespace virtsnap::store
