#include "xml/disk_source_edit.hpp"

#include "util/error.hpp"
#include "xml/document.hpp"

namespace virtsnap::xml {

namespace {

xmlNode* find_disk(const Document& doc, const std::string& target) {
    for (xmlNode* disk : doc.select("/domain/devices/disk")) {
        xmlNode* node = child_element(disk, "target");
        if (node && attribute_or(node, "dev", "") == target)
            return disk;
    }
    return nullptr;
}

std::string source_of(xmlNode* disk) {
    xmlNode* source = child_element(disk, "source");
    if (!source)
        return "";
    for (const char* name : {"file", "dev"}) {
        if (std::optional<std::string> value = attribute(source, name))
            return *value;
    }
    return "";
}

} // namespace

std::string disk_source(const std::string& domain_xml, const std::string& target, const std::string& what) {
    Document doc = Document::parse(domain_xml, what);
    xmlNode* disk = find_disk(doc, target);
    return disk ? source_of(disk) : "";
}

bool has_disk(const std::string& domain_xml, const std::string& target, const std::string& what) {
    Document doc = Document::parse(domain_xml, what);
    return find_disk(doc, target) != nullptr;
}

std::string with_disk_source(const std::string& domain_xml, const std::string& target,
                             const std::string& source_type, const std::string& path,
                             const std::string& format, const std::string& what) {
    if (source_type != "file" && source_type != "block")
        throw util::Error("with_disk_source: source type must be file or block");
    Document doc = Document::parse(domain_xml, what);
    xmlNode* disk = find_disk(doc, target);
    if (!disk)
        throw util::InputError(what + " has no disk " + util::quoted(target));

    xmlSetProp(disk, xml_chars("type"), xml_chars(source_type.c_str()));
    xmlNode* driver = child_element(disk, "driver");
    if (!driver) {
        driver = xmlNewNode(nullptr, xml_chars("driver"));
        xmlAddChild(disk, driver);
        xmlSetProp(driver, xml_chars("name"), xml_chars("qemu"));
    }
    xmlSetProp(driver, xml_chars("type"), xml_chars(format.c_str()));

    xmlNode* source = child_element(disk, "source");
    if (!source) {
        source = xmlNewNode(nullptr, xml_chars("source"));
        xmlAddChild(disk, source);
    }
    xmlUnsetProp(source, xml_chars("file"));
    xmlUnsetProp(source, xml_chars("dev"));
    xmlSetProp(source, xml_chars(source_type == "file" ? "file" : "dev"), xml_chars(path.c_str()));
    // A <source index='N'> from the overlay would describe the wrong image.
    xmlUnsetProp(source, xml_chars("index"));

    while (xmlNode* backing = child_element(disk, "backingStore")) {
        xmlUnlinkNode(backing);
        xmlFreeNode(backing);
    }
    return serialize(disk->doc);
}

} // namespace virtsnap::xml
