#include "virt/disk_inventory.hpp"

#include "image/qemu_img.hpp"
#include "util/error.hpp"

#include <sys/stat.h>

namespace virtsnap::virt {

namespace {

xml::DiskType type_of_path(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode))
        return xml::DiskType::block;
    return xml::DiskType::file;
}

} // namespace

void complete_chain(xml::Disk& disk) {
    if (disk.chain_origin != xml::ChainOrigin::unknown || disk.source.empty())
        return;
    if (disk.type != xml::DiskType::file && disk.type != xml::DiskType::block)
        return;
    std::vector<image::ImageInfo> chain = image::query_image_chain(disk.source, disk.format);
    disk.backing.clear();
    for (size_t i = 1; i < chain.size(); ++i) {
        xml::BackingImage image;
        image.path = chain[i].filename;
        image.format = chain[i].format;
        image.type = type_of_path(image.path);
        disk.backing.push_back(std::move(image));
    }
    disk.chain_origin = xml::ChainOrigin::qemu_img;
}

std::vector<xml::Disk> read_domain_disks(const Domain& domain) {
    xml::Document doc = xml::Document::parse(domain.xml(), "XML of domain " + util::quoted(domain.name()));
    std::vector<xml::Disk> disks = xml::parse_domain_disks(doc);
    for (xml::Disk& disk : disks) {
        if (disk.eligibility == xml::Eligibility::eligible)
            complete_chain(disk);
    }
    return disks;
}

} // namespace virtsnap::virt
