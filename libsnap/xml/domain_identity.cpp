#include "xml/domain_identity.hpp"

#include "util/error.hpp"
#include "xml/document.hpp"

namespace virtsnap::xml {

namespace {

void remove(xmlNode* node) {
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}

// "/var/log/vm1.log" for domain "vm2" -> "/var/log/vm2-vm1.log".
std::string beside(const std::string& path, const std::string& name) {
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    std::string safe = name;
    for (char& c : safe)
        if (c == '/')
            c = '_';
    return dir + safe + "-" + base;
}

} // namespace

std::string as_new_domain(const std::string& domain_xml, const std::string& name, const std::string& what) {
    Document doc = Document::parse(domain_xml, what);
    xmlNode* name_node = doc.select_one("/domain/name");
    if (!name_node)
        throw util::InputError(what + " is not a domain definition (no /domain/name)");
    xmlNodeSetContent(name_node, nullptr);
    xmlNodeAddContent(name_node, xml_chars(name.c_str()));
    for (xmlNode* uuid : doc.select("/domain/uuid"))
        remove(uuid);
    for (xmlNode* mac : doc.select("/domain/devices/interface/mac"))
        remove(mac);
    // Files a running domain holds open (virtlogd refuses a second writer):
    // the new domain writes its own, next to the original's.
    for (xmlNode* source :
         doc.select("/domain/devices/*[self::serial or self::console or self::parallel or self::channel]"
                    "[@type='file']/source[@path]"))
        xmlSetProp(source, xml_chars("path"),
                   xml_chars(beside(attribute_or(source, "path", ""), name).c_str()));
    for (xmlNode* log : doc.select("/domain/devices/*/log[@file]"))
        xmlSetProp(log, xml_chars("file"), xml_chars(beside(attribute_or(log, "file", ""), name).c_str()));
    // The original's UEFI variable store: libvirt makes the new domain its own.
    for (xmlNode* nvram : doc.select("/domain/os/nvram"))
        xmlNodeSetContent(nvram, nullptr);
    return serialize(doc.root()->doc);
}

std::string domain_name_of(const std::string& domain_xml, const std::string& what) {
    Document doc = Document::parse(domain_xml, what);
    xmlNode* name_node = doc.select_one("/domain/name");
    if (!name_node)
        throw util::InputError(what + " is not a domain definition (no /domain/name)");
    return text_of(name_node);
}

} // namespace virtsnap::xml
