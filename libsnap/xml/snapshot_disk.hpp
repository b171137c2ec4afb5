#pragma once
// What a snapshot did to one disk, and what brings it back: the frozen
// image, the overlay the guest writes to meanwhile, and the chain below the
// frozen image that the disk must end on. The manifest carries it with the
// backup's details; the state record carries nothing else. Both write it as
// the same <disk> element.

#include "xml/field_reader.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace virtsnap::xml {

struct ChainImage {
    std::string path;
    std::string format;
};

struct SnapshotDisk {
    std::string target;      // "vda"
    std::string source_type; // "file" or "block"
    std::string format;      // format of the frozen image (the original top)
    std::string frozen;      // the original top image, read-only while frozen
    std::string overlay;     // the qcow2 overlay the guest writes to meanwhile; empty when offline
    // The disk's exact size in bytes (a raw image need not hold whole
    // 512-byte sectors; a copy gives back exactly this many).
    std::uint64_t virtual_size = 0;
    // The chain below the frozen image, immediate backing image first; commit
    // restores exactly frozen <- chain.
    std::vector<ChainImage> chain;
};

// <disk target type format virtual-size><frozen/><overlay/><chain/></disk>
// under parent; offline: without <overlay>. Returns the element.
xmlNode* write_snapshot_disk(xmlNode* parent, const SnapshotDisk& disk, bool offline);

// Reads and checks such an element: a valid target, file or block, a known
// format, clean absolute paths, an overlay (unless offline) that is neither
// the frozen image nor part of its chain.
SnapshotDisk read_snapshot_disk(const FieldReader& reader, xmlNode* node, bool offline);

// "vda", "sdaa1": lower-case letters and digits only, at most 32.
bool is_valid_target(const std::string& target);

} // namespace virtsnap::xml
