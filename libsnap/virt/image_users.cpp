#include "virt/image_users.hpp"

#include "util/error.hpp"
#include "virt/disk_inventory.hpp"
#include "xml/document.hpp"
#include "xml/domain_disks.hpp"

namespace virtsnap::virt {

ImageUsers ImageUsers::of(const Connection& conn) {
    ImageUsers users;
    auto add = [&](const std::string& path, const std::string& domain, bool running) {
        // A running domain's use of an image outranks a shut-off one's.
        for (Entry& entry : users.entries_)
            if (entry.user.path == path) {
                entry.user.running = entry.user.running || running;
                return;
            }
        users.entries_.push_back({image::identity_at(path), {domain, running, path}});
    };
    for (const std::string& name : conn.domain_names()) {
        Domain domain = conn.lookup(name);
        const bool running = domain.is_active();
        std::vector<xml::Disk> disks = read_domain_disks(domain);
        if (running && domain.is_persistent()) {
            std::vector<xml::Disk> persistent = xml::parse_domain_disks(
                xml::Document::parse(domain.inactive_xml(), "definition of domain " + util::quoted(name)));
            disks.insert(disks.end(), persistent.begin(), persistent.end());
        }
        for (const xml::Disk& disk : disks) {
            if (!disk.source.empty())
                add(disk.source, name, running);
            for (const xml::BackingImage& image : disk.backing)
                add(image.path, name, running);
        }
    }
    return users;
}

const ImageUser* ImageUsers::find(const std::string& path) const {
    const std::optional<image::FileIdentity> identity = image::identity_at(path);
    const ImageUser* found = nullptr;
    for (const Entry& entry : entries_) {
        const bool same = identity && entry.identity ? *identity == *entry.identity : entry.user.path == path;
        if (same && (!found || entry.user.running))
            found = &entry.user;
    }
    return found;
}

} // namespace virtsnap::virt
