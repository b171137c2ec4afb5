#include "xml/field_reader.hpp"

#include "util/error.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace virtsnap::xml {

using util::quoted;

std::string FieldReader::required(const xmlNode* node, const char* name) const {
    std::optional<std::string> value = attribute(node, name);
    if (!value || value->empty())
        fail("<" + element_name(node) + "> lacks the attribute " + name);
    return *value;
}

const xmlNode* FieldReader::one(const char* xpath, const char* description) const {
    std::vector<xmlNode*> nodes = doc_.select(xpath);
    if (nodes.size() != 1)
        fail("expected exactly one " + std::string(description) + ", found " + std::to_string(nodes.size()));
    return nodes.front();
}

std::uint64_t FieldReader::size(const std::string& text, const std::string& field) const {
    if (text.empty() || text.size() > 20 || !std::all_of(text.begin(), text.end(), [](char c) {
            return std::isdigit(static_cast<unsigned char>(c));
        }))
        fail(field + " " + quoted(text) + " is not a whole number");
    try {
        return static_cast<std::uint64_t>(std::stoull(text));
    } catch (const std::out_of_range&) {
        fail(field + " " + quoted(text) + " is out of range");
    }
}

bool FieldReader::yes_no(const std::string& text, const std::string& field) const {
    if (text == "yes")
        return true;
    if (text == "no")
        return false;
    fail(field + " must be yes or no, not " + quoted(text));
}

void FieldReader::clean_path(const std::string& path, const std::string& field) const {
    if (!is_clean_absolute_path(path))
        fail(field + " " + quoted(path) + " is not a clean absolute path");
}

void FieldReader::image_path(const std::string& path, const std::string& field) const {
    if (path.empty() || path.front() != '/' || path.back() == '/' || path.find('\0') != std::string::npos ||
        path.size() > 4096)
        fail(field + " " + quoted(path) + " is not an absolute path");
}

void FieldReader::known_format(const std::string& format, const std::string& field) const {
    static const std::set<std::string> formats{"raw", "qcow2", "qed", "vmdk", "vdi", "vpc", "vhdx"};
    if (formats.count(format) != 1)
        fail(field + " " + quoted(format) + " is not a disk image format virtsnap knows");
}

void FieldReader::fail(const std::string& problem) const {
    throw util::InputError(what_ + " is not a valid " + kind_ + ": " + problem);
}

bool is_clean_absolute_path(const std::string& path) {
    if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos || path.size() > 4096)
        return false;
    size_t start = 1;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos)
            end = path.size();
        std::string part = path.substr(start, end - start);
        if (part == "." || part == "..")
            return false;
        start = end + 1;
    }
    return path.back() != '/';
}

xmlNode* add_element(xmlNode* parent, const char* name) {
    return xmlNewChild(parent, nullptr, xml_chars(name), nullptr);
}

void set_attribute(xmlNode* node, const char* name, const std::string& value) {
    xmlNewProp(node, xml_chars(name), xml_chars(value.c_str()));
}

} // namespace virtsnap::xml
