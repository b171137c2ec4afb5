#include "xml/document.hpp"

#include "util/error.hpp"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
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

struct ParserDeleter {
    void operator()(xmlParserCtxt* parser) const noexcept { xmlFreeParserCtxt(parser); }
};
using ParserPtr = std::unique_ptr<xmlParserCtxt, ParserDeleter>;

void refuse_dtd(void* context, const xmlChar*, const xmlChar*, const xmlChar*) {
    auto* parser = static_cast<xmlParserCtxt*>(context);
    *static_cast<bool*>(parser->_private) = true;
    xmlStopParser(parser);
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
    ParserPtr parser(xmlNewParserCtxt());
    if (!parser)
        throw std::bad_alloc();
    // No document virtsnap reads has a DTD (libvirt writes none, virtsnap
    // writes none), and a DTD is how a hostile document declares entities:
    // one 200 KB entity used 5,000 times in an attribute made a 216 KB
    // manifest cost minutes and gigabytes. The parse stops at the DOCTYPE.
    bool has_dtd = false;
    parser->_private = &has_dtd;
    parser->sax->internalSubset = refuse_dtd;
    parser->sax->externalSubset = refuse_dtd;
    // No NOENT (no entity substitution) and NONET: a hostile document cannot
    // make us read files or the network.
    const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    DocPtr doc(xmlCtxtReadMemory(parser.get(), text.data(), static_cast<int>(text.size()), nullptr, nullptr,
                                 options));
    if (has_dtd)
        throw InputError(what + " declares a DTD (<!DOCTYPE ...>); virtsnap reads no XML with one");
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

void RelaxNGDeleter::operator()(xmlRelaxNG* schema) const noexcept {
    xmlRelaxNGFree(schema);
}

namespace {

struct RelaxNGParserDeleter {
    void operator()(xmlRelaxNGParserCtxt* parser) const noexcept { xmlRelaxNGFreeParserCtxt(parser); }
};
struct RelaxNGValidatorDeleter {
    void operator()(xmlRelaxNGValidCtxt* validator) const noexcept { xmlRelaxNGFreeValidCtxt(validator); }
};

// The first problem a validation reports; the rest follow from it.
struct FirstProblem {
    bool seen = false;
    std::string message;
    int line = 0;
};

void keep_first_problem(void* data, xmlError* error) {
    auto* first = static_cast<FirstProblem*>(data);
    if (first->seen || !error)
        return;
    first->seen = true;
    first->message = error->message ? trim(error->message) : "invalid";
    first->line = error->line;
    if (first->line == 0 && error->node)
        first->line = static_cast<int>(xmlGetLineNo(static_cast<xmlNode*>(error->node)));
}

} // namespace

Schema::Schema(const std::string& text, std::string name) : name_(std::move(name)) {
    silence_libxml2();
    std::unique_ptr<xmlRelaxNGParserCtxt, RelaxNGParserDeleter> parser(
        xmlRelaxNGNewMemParserCtxt(text.data(), static_cast<int>(text.size())));
    if (!parser)
        throw std::bad_alloc();
    FirstProblem problem;
    xmlRelaxNGSetParserStructuredErrors(parser.get(), keep_first_problem, &problem);
    schema_.reset(xmlRelaxNGParse(parser.get()));
    if (!schema_)
        throw util::Error("internal error: " + name_ + " does not compile: " + problem.message);
}

void Document::validate(const Schema& schema) const {
    std::unique_ptr<xmlRelaxNGValidCtxt, RelaxNGValidatorDeleter> validator(
        xmlRelaxNGNewValidCtxt(schema.get()));
    if (!validator)
        throw std::bad_alloc();
    FirstProblem problem;
    xmlRelaxNGSetValidStructuredErrors(validator.get(), keep_first_problem, &problem);
    if (xmlRelaxNGValidateDoc(validator.get(), doc_.get()) == 0)
        return;
    std::string where = problem.line > 0 ? "line " + std::to_string(problem.line) + ": " : "";
    throw InputError(what_ + " does not follow " + schema.name() + ": " + where +
                     (problem.seen ? problem.message : "invalid"));
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
