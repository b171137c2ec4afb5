#include "xml/domain_disks.hpp"

#include "util/error.hpp"

namespace virtsnap::xml {

using util::InputError;

namespace {

DiskDevice parse_device(const std::string& name) {
    if (name == "disk")
        return DiskDevice::disk;
    if (name == "cdrom")
        return DiskDevice::cdrom;
    if (name == "floppy")
        return DiskDevice::floppy;
    if (name == "lun")
        return DiskDevice::lun;
    return DiskDevice::other;
}

DiskType parse_type(const std::string& name) {
    if (name == "file")
        return DiskType::file;
    if (name == "block")
        return DiskType::block;
    if (name == "network")
        return DiskType::network;
    if (name == "volume")
        return DiskType::volume;
    return DiskType::other;
}

// The path of a <source> for a file or block disk (libvirt uses file= and
// dev= respectively); empty when absent, as for a cdrom with no medium.
std::string source_path(const xmlNode* source, DiskType type) {
    if (!source)
        return "";
    if (type == DiskType::block)
        return attribute_or(source, "dev", "");
    if (type == DiskType::network)
        return attribute_or(source, "name", "");
    return attribute_or(source, "file", "");
}

// <backingStore> nests one element per image. An empty <backingStore/> ends
// the chain (libvirt knows there is nothing below); no element at all means
// libvirt did not say, and the chain stays unknown. So does a chain that
// stops without that end: a persistent definition written by an external
// snapshot names the overlay's backing image and nothing below it.
void parse_backing(const xmlNode* disk_node, Disk& disk) {
    const xmlNode* store = child_element(disk_node, "backingStore");
    if (!store)
        return;
    while (store) {
        const xmlNode* source = child_element(store, "source");
        if (!source) {
            disk.chain_origin = ChainOrigin::libvirt; // <backingStore/>: end of chain
            return;
        }
        BackingImage image;
        image.type = parse_type(attribute_or(store, "type", "file"));
        image.format = attribute_or(child_element(store, "format"), "type", "");
        image.path = source_path(source, image.type);
        disk.backing.push_back(std::move(image));
        store = child_element(store, "backingStore");
    }
    disk.backing.clear();
}

Disk parse_disk(const xmlNode* node) {
    Disk disk;
    const xmlNode* target = child_element(node, "target");
    disk.target = attribute_or(target, "dev", "");
    if (disk.target.empty())
        throw InputError("a <disk> in the domain XML has no <target dev=...>");
    disk.device_name = attribute_or(node, "device", "disk");
    disk.device = parse_device(disk.device_name);
    disk.type_name = attribute_or(node, "type", "file");
    disk.type = parse_type(disk.type_name);
    disk.format = attribute_or(child_element(node, "driver"), "type", "");
    disk.readonly = child_element(node, "readonly") != nullptr;
    disk.shareable = child_element(node, "shareable") != nullptr;

    const xmlNode* source = child_element(node, "source");
    switch (disk.type) {
    case DiskType::file:
    case DiskType::block:
        disk.source = source_path(source, disk.type);
        break;
    case DiskType::network:
        disk.network_protocol = attribute_or(source, "protocol", "");
        disk.network_name = attribute_or(source, "name", "");
        break;
    case DiskType::volume:
        disk.pool = attribute_or(source, "pool", "");
        disk.volume = attribute_or(source, "volume", "");
        break;
    case DiskType::other:
        break;
    }
    parse_backing(node, disk);
    classify(disk);
    return disk;
}

} // namespace

void classify(Disk& disk) {
    auto decide = [&disk](Eligibility eligibility, std::string reason) {
        disk.eligibility = eligibility;
        disk.reason = std::move(reason);
    };
    if (disk.device == DiskDevice::cdrom || disk.device == DiskDevice::floppy)
        return decide(Eligibility::skipped, disk.device_name + " device");
    if (disk.readonly)
        return decide(Eligibility::skipped, "read-only disk");
    if (disk.shareable)
        return decide(Eligibility::skipped, "shareable disk");
    if (disk.device == DiskDevice::lun)
        // A passed-through SCSI LUN holds data but cannot carry an overlay.
        return decide(Eligibility::refused, "device='lun' (SCSI pass-through) cannot be snapshotted");
    if (disk.device == DiskDevice::other)
        return decide(Eligibility::refused, "unsupported device type '" + disk.device_name + "'");
    if (disk.type == DiskType::network)
        return decide(
            Eligibility::refused,
            "network disk (" +
                (disk.network_protocol.empty() ? std::string("unknown protocol") : disk.network_protocol) +
                ") is not supported");
    if (disk.type == DiskType::volume)
        return decide(Eligibility::refused, "storage-pool volume disk is not supported");
    if (disk.type == DiskType::other)
        return decide(Eligibility::refused, "unsupported disk type '" + disk.type_name + "'");
    if (disk.source.empty())
        return decide(Eligibility::skipped, "no source (empty drive)");
    decide(Eligibility::eligible, "");
}

std::vector<Disk> parse_domain_disks(const Document& domain) {
    if (element_name(domain.root()) != "domain")
        throw InputError(domain.what() + " is not a libvirt domain (root element <" +
                         element_name(domain.root()) + ">)");
    std::vector<Disk> disks;
    for (xmlNode* node : domain.select("/domain/devices/disk"))
        disks.push_back(parse_disk(node));
    return disks;
}

const char* to_string(DiskDevice device) {
    switch (device) {
    case DiskDevice::disk:
        return "disk";
    case DiskDevice::cdrom:
        return "cdrom";
    case DiskDevice::floppy:
        return "floppy";
    case DiskDevice::lun:
        return "lun";
    case DiskDevice::other:
        break;
    }
    return "other";
}

const char* to_string(DiskType type) {
    switch (type) {
    case DiskType::file:
        return "file";
    case DiskType::block:
        return "block";
    case DiskType::network:
        return "network";
    case DiskType::volume:
        return "volume";
    case DiskType::other:
        break;
    }
    return "other";
}

const char* to_string(ChainOrigin origin) {
    switch (origin) {
    case ChainOrigin::libvirt:
        return "libvirt";
    case ChainOrigin::qemu_img:
        return "qemu-img";
    case ChainOrigin::unknown:
        break;
    }
    return "unknown";
}

const char* to_string(Eligibility eligibility) {
    switch (eligibility) {
    case Eligibility::eligible:
        return "eligible";
    case Eligibility::skipped:
        return "skipped";
    case Eligibility::refused:
        break;
    }
    return "refused";
}

namespace {

// Values run to the end of the line; a newline inside a path is escaped so
// that one line stays one field.
std::string escaped(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

} // namespace

std::string render(const std::vector<Disk>& disks) {
    std::string out;
    auto line = [&out](const std::string& key, const std::string& value) {
        out += "  " + key + ": " + escaped(value) + "\n";
    };
    for (const Disk& disk : disks) {
        out += "disk " + escaped(disk.target) + "\n";
        line("device", disk.device_name);
        line("type", disk.type_name);
        line("format", disk.format);
        if (disk.type == DiskType::network) {
            line("protocol", disk.network_protocol);
            line("name", disk.network_name);
        } else if (disk.type == DiskType::volume) {
            line("pool", disk.pool);
            line("volume", disk.volume);
        } else {
            line("source", disk.source);
        }
        line("readonly", disk.readonly ? "yes" : "no");
        line("shareable", disk.shareable ? "yes" : "no");
        line("chain", to_string(disk.chain_origin));
        for (const BackingImage& image : disk.backing)
            line("backing", std::string(to_string(image.type)) + " " +
                                (image.format.empty() ? "?" : image.format) + " " + image.path);
        line("eligibility", disk.reason.empty()
                                ? to_string(disk.eligibility)
                                : std::string(to_string(disk.eligibility)) + " (" + disk.reason + ")");
    }
    return out;
}

} // namespace virtsnap::xml
