#include "xml/snapshot_disk.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cctype>

namespace virtsnap::xml {

using util::quoted;

xmlNode* write_snapshot_disk(xmlNode* parent, const SnapshotDisk& disk, bool offline) {
    xmlNode* node = add_element(parent, "disk");
    set_attribute(node, "target", disk.target);
    set_attribute(node, "type", disk.source_type);
    set_attribute(node, "format", disk.format);
    set_attribute(node, "virtual-size", std::to_string(disk.virtual_size));
    set_attribute(add_element(node, "frozen"), "path", disk.frozen);
    if (!offline)
        set_attribute(add_element(node, "overlay"), "path", disk.overlay);
    xmlNode* chain = add_element(node, "chain");
    for (const ChainImage& image : disk.chain) {
        xmlNode* entry = add_element(chain, "image");
        set_attribute(entry, "path", image.path);
        set_attribute(entry, "format", image.format);
    }
    return node;
}

SnapshotDisk read_snapshot_disk(const FieldReader& reader, xmlNode* node, bool offline) {
    SnapshotDisk disk;
    disk.target = reader.required(node, "target");
    if (!is_valid_target(disk.target))
        reader.fail("disk target " + quoted(disk.target) + " is not a valid target name");
    const std::string where = "disk " + quoted(disk.target);
    disk.source_type = reader.required(node, "type");
    if (disk.source_type != "file" && disk.source_type != "block")
        reader.fail(where + ": type must be file or block, not " + quoted(disk.source_type));
    disk.format = reader.required(node, "format");
    reader.known_format(disk.format, where + ": format");
    disk.virtual_size = reader.size(reader.required(node, "virtual-size"), where + ": virtual-size");
    // QEMU's own limit on a disk's size (INT64_MAX rounded to sectors):
    // larger sizes cannot add up with anything.
    if (disk.virtual_size > (1ULL << 63) - 512)
        reader.fail(where + ": virtual-size " + std::to_string(disk.virtual_size) + " is out of range");

    xmlNode* frozen = child_element(node, "frozen");
    xmlNode* overlay = child_element(node, "overlay");
    if (!frozen || (!overlay && !offline))
        reader.fail(where + " lacks <frozen> or <overlay>");
    if (overlay && offline)
        reader.fail(where + ": an offline backup has no overlay");
    disk.frozen = reader.required(frozen, "path");
    reader.image_path(disk.frozen, where + ": frozen image");
    if (overlay) {
        disk.overlay = reader.required(overlay, "path");
        reader.clean_path(disk.overlay, where + ": overlay");
        if (disk.overlay == disk.frozen)
            reader.fail(where + ": the overlay is the frozen image itself");
    }

    for (xmlNode* image : reader.doc().select("chain/image", node)) {
        ChainImage entry{reader.required(image, "path"), reader.required(image, "format")};
        reader.image_path(entry.path, where + ": chain image");
        reader.known_format(entry.format, where + ": chain image format");
        if (!disk.overlay.empty() && entry.path == disk.overlay)
            reader.fail(where + ": the overlay appears in its own backing chain");
        disk.chain.push_back(std::move(entry));
    }
    return disk;
}

bool is_valid_target(const std::string& target) {
    return !target.empty() && target.size() <= 32 && std::all_of(target.begin(), target.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c));
    });
}

} // namespace virtsnap::xml
