#include "image_users.hpp"

#include "util/error.hpp"
#include "virt/disk_inventory.hpp"
#include "xml/document.hpp"
#include "xml/domain_disks.hpp"

namespace virtsnap::restore {

std::map<std::string, ImageUser> images_in_use(const virt::Connection& conn) {
    std::map<std::string, ImageUser> users;
    for (const std::string& name : conn.domain_names()) {
        virt::Domain domain = conn.lookup(name);
        const bool running = domain.is_active();
        std::vector<xml::Disk> disks = virt::read_domain_disks(domain);
        if (running && domain.is_persistent()) {
            std::vector<xml::Disk> persistent = xml::parse_domain_disks(
                xml::Document::parse(domain.inactive_xml(), "definition of domain " + util::quoted(name)));
            disks.insert(disks.end(), persistent.begin(), persistent.end());
        }
        for (const xml::Disk& disk : disks) {
            if (!disk.source.empty())
                users[disk.source] = {name, running};
            for (const xml::BackingImage& image : disk.backing)
                users[image.path] = {name, running};
        }
    }
    return users;
}

} // namespace virtsnap::restore
