#pragma once
// An owned libxml2 document with the few XPath queries virtsnap needs. Parsing
// never touches the network, never substitutes entities, refuses any DTD,
// and turns libxml2's error into one InputError naming the document and the
// line.

#include <libxml/relaxng.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::xml {

struct DocDeleter {
    void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
struct XPathContextDeleter {
    void operator()(xmlXPathContext* ctx) const noexcept { xmlXPathFreeContext(ctx); }
};
struct XPathObjectDeleter {
    void operator()(xmlXPathObject* obj) const noexcept { xmlXPathFreeObject(obj); }
};
using DocPtr = std::unique_ptr<xmlDoc, DocDeleter>;
using XPathContextPtr = std::unique_ptr<xmlXPathContext, XPathContextDeleter>;
using XPathObjectPtr = std::unique_ptr<xmlXPathObject, XPathObjectDeleter>;

struct RelaxNGDeleter {
    void operator()(xmlRelaxNG* schema) const noexcept;
};

// A RELAX NG schema, compiled once, that documents are checked against.
class Schema {
  public:
    // text: the schema; name: how errors name it ("the manifest schema").
    // Throws Error when the schema itself does not compile (a build bug).
    Schema(const std::string& text, std::string name);
    xmlRelaxNG* get() const noexcept { return schema_.get(); }
    const std::string& name() const noexcept { return name_; }

  private:
    std::unique_ptr<xmlRelaxNG, RelaxNGDeleter> schema_;
    std::string name_;
};

class Document {
  public:
    // what names the document in errors ("domain XML of 'vm1'", a path, ...).
    static Document parse(const std::string& text, const std::string& what);

    xmlNode* root() const noexcept;
    const std::string& what() const noexcept { return what_; }

    // Elements matching an XPath expression, evaluated relative to context
    // (the root when null). Throws InputError for an invalid expression.
    std::vector<xmlNode*> select(const std::string& xpath, xmlNode* context = nullptr) const;
    // The first match, or null.
    xmlNode* select_one(const std::string& xpath, xmlNode* context = nullptr) const;

    // Throws InputError "WHAT does not follow SCHEMA: line N: ..." naming
    // the first place the document departs from the schema.
    void validate(const Schema& schema) const;

  private:
    Document(DocPtr doc, std::string what);

    DocPtr doc_;
    XPathContextPtr xpath_;
    std::string what_;
};

// The document as indented UTF-8 text (libxml2 does the escaping).
std::string serialize(xmlDoc* doc);

// The value of an attribute, or nullopt when it is absent.
std::optional<std::string> attribute(const xmlNode* node, const char* name);
// The attribute's value or fallback.
std::string attribute_or(const xmlNode* node, const char* name, const std::string& fallback);
// The first child element with that name, or null.
xmlNode* child_element(const xmlNode* node, const char* name);
// The node's name as std::string.
std::string element_name(const xmlNode* node);
// The text content of a node.
std::string text_of(const xmlNode* node);

// A C string as the xmlChar* libxml2's tree functions take.
inline const xmlChar* xml_chars(const char* text) {
    return reinterpret_cast<const xmlChar*>(text);
}

} // namespace virtsnap::xml
