#include "xml/snapshot_xml.hpp"

#include "util/error.hpp"
#include "util/path.hpp"
#include "xml/document.hpp"

namespace virtsnap::xml {

using util::basename_of;
using util::dirname_of;

namespace {

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

bool is_overlay_of(const std::string& path, const std::string& snapshot_id, const std::string& target) {
    const std::string suffix = marker + snapshot_id + "." + target + ".qcow2";
    return looks_like_overlay(path) && path.size() > suffix.size() &&
           path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string snapshot_xml(const std::string& snapshot_id, const std::vector<Disk>& disks,
                         const std::map<std::string, std::string>& overlays) {
    DocPtr doc(xmlNewDoc(xml_chars("1.0")));
    xmlNode* root = xmlNewNode(nullptr, xml_chars("domainsnapshot"));
    xmlDocSetRootElement(doc.get(), root);
    xmlNewTextChild(root, nullptr, xml_chars("name"), xml_chars(("virtsnap-" + snapshot_id).c_str()));
    xmlNewTextChild(root, nullptr, xml_chars("description"),
                    xml_chars("virtsnap backup snapshot; merged back by virtsnap-commit"));
    xmlNode* list = xmlNewChild(root, nullptr, xml_chars("disks"), nullptr);
    size_t used = 0;
    for (const Disk& disk : disks) {
        xmlNode* node = xmlNewChild(list, nullptr, xml_chars("disk"), nullptr);
        xmlNewProp(node, xml_chars("name"), xml_chars(disk.target.c_str()));
        auto overlay = overlays.find(disk.target);
        if (overlay == overlays.end()) {
            xmlNewProp(node, xml_chars("snapshot"), xml_chars("no"));
            continue;
        }
        ++used;
        xmlNewProp(node, xml_chars("snapshot"), xml_chars("external"));
        xmlNewProp(node, xml_chars("type"), xml_chars("file"));
        xmlNode* driver = xmlNewChild(node, nullptr, xml_chars("driver"), nullptr);
        xmlNewProp(driver, xml_chars("type"), xml_chars("qcow2"));
        xmlNode* source = xmlNewChild(node, nullptr, xml_chars("source"), nullptr);
        xmlNewProp(source, xml_chars("file"), xml_chars(overlay->second.c_str()));
    }
    if (used != overlays.size())
        throw util::Error("snapshot_xml: an overlay names a target the domain does not have");

    return serialize(doc.get());
}

} // namespace virtsnap::xml
