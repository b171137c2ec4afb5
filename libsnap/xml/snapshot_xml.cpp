#include "xml/snapshot_xml.hpp"

#include "util/error.hpp"
#include "xml/document.hpp"

namespace virtsnap::xml {

namespace {

const xmlChar* x(const char* text) {
    return reinterpret_cast<const xmlChar*>(text);
}

std::string basename_of(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string dirname_of(const std::string& path) {
    size_t slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// "disk one.qcow2" -> "disk one"; names without a known image suffix stay.
std::string stem_of(const std::string& name) {
    for (const char* suffix : {".qcow2", ".raw", ".img", ".qcow", ".vmdk"}) {
        std::string s(suffix);
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
            return name.substr(0, name.size() - s.size());
    }
    return name;
}

constexpr const char* marker = ".virtsnap-";

} // namespace

std::string overlay_path_for(const Disk& disk, const std::string& snapshot_id, const std::string& overlay_dir,
                             const std::string& block_fallback_dir) {
    std::string dir = overlay_dir;
    if (dir.empty())
        dir = disk.type == DiskType::block ? block_fallback_dir : dirname_of(disk.source);
    if (dir.empty())
        throw util::UsageError("disk " + util::quoted(disk.target) +
                               " is a block device; name a directory for its overlay with --overlay-dir");
    while (dir.size() > 1 && dir.back() == '/')
        dir.pop_back();
    return (dir == "/" ? "" : dir) + "/" + stem_of(basename_of(disk.source)) + marker + snapshot_id + "." +
           disk.target + ".qcow2";
}

bool looks_like_overlay(const std::string& path) {
    std::string name = basename_of(path);
    return name.find(marker) != std::string::npos && name.size() > 6 &&
           name.compare(name.size() - 6, 6, ".qcow2") == 0;
}

std::string snapshot_xml(const std::string& snapshot_id, const std::vector<Disk>& disks,
                         const std::map<std::string, std::string>& overlays) {
    DocPtr doc(xmlNewDoc(x("1.0")));
    xmlNode* root = xmlNewNode(nullptr, x("domainsnapshot"));
    xmlDocSetRootElement(doc.get(), root);
    xmlNewTextChild(root, nullptr, x("name"), x(("virtsnap-" + snapshot_id).c_str()));
    xmlNewTextChild(root, nullptr, x("description"),
                    x("virtsnap backup snapshot; merged back by virtsnap-commit"));
    xmlNode* list = xmlNewChild(root, nullptr, x("disks"), nullptr);
    size_t used = 0;
    for (const Disk& disk : disks) {
        xmlNode* node = xmlNewChild(list, nullptr, x("disk"), nullptr);
        xmlNewProp(node, x("name"), x(disk.target.c_str()));
        auto overlay = overlays.find(disk.target);
        if (overlay == overlays.end()) {
            xmlNewProp(node, x("snapshot"), x("no"));
            continue;
        }
        ++used;
        xmlNewProp(node, x("snapshot"), x("external"));
        xmlNewProp(node, x("type"), x("file"));
        xmlNode* driver = xmlNewChild(node, nullptr, x("driver"), nullptr);
        xmlNewProp(driver, x("type"), x("qcow2"));
        xmlNode* source = xmlNewChild(node, nullptr, x("source"), nullptr);
        xmlNewProp(source, x("file"), x(overlay->second.c_str()));
    }
    if (used != overlays.size())
        throw util::Error("snapshot_xml: an overlay names a target the domain does not have");

    return serialize(doc.get());
}

} // namespace virtsnap::xml
