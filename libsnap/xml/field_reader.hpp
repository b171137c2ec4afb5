#pragma once
// Reading the fields of a document virtsnap wrote (a manifest, a state
// record) as the hostile input it may be: each accessor checks what it
// returns and fails with one InputError naming the document, the kind of
// document it should be and the field. Writing goes through the two small
// helpers at the end, so both directions use the same element names.

#include "xml/document.hpp"

#include <cstdint>
#include <string>

namespace virtsnap::xml {

class FieldReader {
  public:
    // what: the document ("manifest 'm.xml'"); kind: "virtsnap manifest".
    FieldReader(const Document& doc, std::string what, std::string kind)
        : doc_(doc), what_(std::move(what)), kind_(std::move(kind)) {}

    const Document& doc() const noexcept { return doc_; }
    const std::string& what() const noexcept { return what_; }

    // The attribute's value; fails when it is absent or empty.
    std::string required(const xmlNode* node, const char* name) const;
    // The one element an absolute XPath matches; fails on none or several.
    const xmlNode* one(const char* xpath, const char* description) const;
    // A whole number of at most 20 digits that fits 64 bits.
    std::uint64_t size(const std::string& text, const std::string& field) const;
    bool yes_no(const std::string& text, const std::string& field) const;
    // Fails unless path is absolute, without "." or ".." components: for
    // the paths virtsnap makes itself (overlays, directories it resolved).
    void clean_path(const std::string& path, const std::string& field) const;
    // Fails unless path is absolute (no NUL, at most 4096 bytes, not ending
    // in '/'): for the images a domain's definition and its qcow2 headers
    // name, which libvirt reports as written ("sub/../base.qcow2" for a
    // relative backing name) and which every check compares as such.
    void image_path(const std::string& path, const std::string& field) const;
    // Fails unless format is a disk image format virtsnap knows.
    void known_format(const std::string& format, const std::string& field) const;

    // "WHAT is not a valid KIND: PROBLEM"
    [[noreturn]] void fail(const std::string& problem) const;

  private:
    const Document& doc_;
    std::string what_;
    std::string kind_;
};

// Absolute, no NUL, no "." or ".." component, no trailing '/': a document
// cannot steer a tool to a path by traversal.
bool is_clean_absolute_path(const std::string& path);

// A new child element of parent.
xmlNode* add_element(xmlNode* parent, const char* name);
// An attribute on node (libxml2 escapes the value).
void set_attribute(xmlNode* node, const char* name, const std::string& value);

} // namespace virtsnap::xml
