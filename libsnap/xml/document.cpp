#include "xml/document.hpp"

#include "util/error.hpp"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <climits>

namespace virtsnap::xml {

using util::InputError;

namespace {

// libxml2 prints errors on stderr by default; virtsnap reports them once, as
// an exception, so the library's own printing is switched off.
void ignore_structured_error(void*, const xmlError*) {}
void ignore_generic_error(void*, const char*, ...) {}

void silence_libxml2() {
    static const bool done = [] {
        xmlSetStructuredErrorFunc(nullptr, reinterpret_cast<xmlStructuredErrorFunc>(ignore_structured_error));
        xmlSetGenericErrorFunc(nullptr, ignore_generic_error);
        return true;
    }();
    (void)done;
}

std::string trim(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

} // namespace

Document::Document(DocPtr doc, std::string what) : doc_(std::move(doc)), what_(std::move(what)) {
    xpath_.reset(xmlXPathNewContext(doc_.get()));
    if (!xpath_)
        throw std::bad_alloc();
}

Document Document::parse(const std::string& text, const std::string& what) {
    silence_libxml2();
    if (text.size() > static_cast<size_t>(INT_MAX))
        throw InputError(what + " is too large to be XML virtsnap reads");
    xmlResetLastError();
    // No NOENT (no entity substitution) and NONET: a hostile document cannot
    // make us read files or the network.
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    DocPtr doc(xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr, nullptr, options));
    if (!doc) {
        const xmlError* error = xmlGetLastError();
        std::string detail = error && error->message ? trim(error->message) : "not well-formed";
        std::string line = error ? " at line " + std::to_string(error->line) : "";
        throw InputError(what + " is not valid XML" + line + ": " + detail);
    }
    if (!xmlDocGetRootElement(doc.get()))
        throw InputError(what + " is an empty XML document");
    return Document(std::move(doc), what);
}

xmlNode* Document::root() const noexcept {
    return xmlDocGetRootElement(doc_.get());
}

std::vector<xmlNode*> Document::select(const std::string& xpath, xmlNode* context) const {
    xpath_->node = context ? context : root();
    XPathObjectPtr result(
        xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(xpath.c_str()), xpath_.get()));
    if (!result)
        throw InputError("invalid XPath expression " + util::quoted(xpath));
    std::vector<xmlNode*> nodes;
    if (result->type == XPATH_NODESET && result->nodesetval) {
        for (int i = 0; i < result->nodesetval->nodeNr; ++i)
            nodes.push_back(result->nodesetval->nodeTab[i]);
    }
    return nodes;
}

xmlNode* Document::select_one(const std::string& xpath, xmlNode* context) const {
    std::vector<xmlNode*> nodes = select(xpath, context);
    return nodes.empty() ? nullptr : nodes.front();
}

std::string serialize(xmlDoc* doc) {
    xmlChar* buffer = nullptr;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(doc, &buffer, &size, "UTF-8", 1);
    if (!buffer)
        throw std::bad_alloc();
    std::string text(reinterpret_cast<const char*>(buffer), static_cast<size_t>(size));
    xmlFree(buffer);
    return text;
}

std::optional<std::string> attribute(const xmlNode* node, const char* name) {
    if (!node)
        return std::nullopt;
    xmlChar* value = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
    if (!value)
        return std::nullopt;
    std::string text(reinterpret_cast<const char*>(value));
    xmlFree(value);
    return text;
}

std::string attribute_or(const xmlNode* node, const char* name, const std::string& fallback) {
    return attribute(node, name).value_or(fallback);
}

xmlNode* child_element(const xmlNode* node, const char* name) {
    if (!node)
        return nullptr;
    for (xmlNode* child = node->children; child; child = child->next) {
        if (child->type == XML_ELEMENT_NODE && element_name(child) == name)
            return child;
    }
    return nullptr;
}

std::string element_name(const xmlNode* node) {
    return node && node->name ? reinterpret_cast<const char*>(node->name) : "";
}

std::string text_of(const xmlNode* node) {
    if (!node)
        return "";
    xmlChar* content = xmlNodeGetContent(node);
    if (!content)
        return "";
    std::string text(reinterpret_cast<const char*>(content));
    xmlFree(content);
    return text;
}

} // namespace virtsnap::xml
