#pragma once
// What qemu-img says about an image and its backing chain.

#include "util/subprocess.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace virtsnap::image {

struct ImageInfo {
    std::string filename;
    std::string format;
    std::uint64_t virtual_size = 0;
    std::uint64_t actual_size = 0;
    std::uint64_t cluster_size = 0; // 0 when the format has none
    std::string backing_filename;   // as recorded in the image; may be relative
    bool dirty = false;
    bool encrypted = false;
    // qcow2 only (from "format-specific"):
    std::string compat; // "1.1", "0.10"
    bool lazy_refcounts = false;
    bool extended_l2 = false;
    std::string data_file; // an external data file, when the image has one
};

// Parses `qemu-img info --backing-chain --output=json`: the image itself
// first, then each backing image below it. Throws InputError (naming what)
// when the text is not such a chain.
std::vector<ImageInfo> parse_image_chain(const std::string& json, const std::string& what);

// Runs qemu-img on path. The format is always passed explicitly, never
// probed: a guest can write a qcow2 header into a raw disk, and probing would
// then follow a backing file the guest chose. -U reads images a running QEMU
// holds locked.
// on_interrupt: stop_child where the query may be abandoned (a copy, a
// verification); the default waits (a merge that must finish).
std::vector<ImageInfo> query_image_chain(const std::string& path, const std::string& format,
                                         util::OnInterrupt on_interrupt = util::OnInterrupt::wait);

} // namespace virtsnap::image
