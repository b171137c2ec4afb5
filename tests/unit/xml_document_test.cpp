#include "util/error.hpp"
#include "xml/document.hpp"

#include <doctest/doctest.h>

using namespace virtsnap;
using xml::Document;

TEST_CASE("a well-formed document parses and answers XPath queries") {
    Document doc = Document::parse("<a><b x='1'/><b x='2'>t</b></a>", "test");
    auto nodes = doc.select("/a/b");
    REQUIRE(nodes.size() == 2);
    CHECK(xml::attribute(nodes[0], "x") == "1");
    CHECK_FALSE(xml::attribute(nodes[0], "y").has_value());
    CHECK(xml::attribute_or(nodes[0], "y", "none") == "none");
    CHECK(xml::text_of(nodes[1]) == "t");
    CHECK(doc.select_one("/a/c") == nullptr);
    CHECK(xml::element_name(doc.select_one("b", doc.root())) == "b");
}

TEST_CASE("malformed and truncated XML is an InputError naming the document and line") {
    CHECK_THROWS_WITH_AS(Document::parse("<a>\n<b></a>", "manifest 'm.xml'"),
                         doctest::Contains("manifest 'm.xml' is not valid XML at line 2"), util::InputError);
    CHECK_THROWS_AS(Document::parse("<domain><devices><disk", "x"), util::InputError);
    CHECK_THROWS_AS(Document::parse("", "x"), util::InputError);
    CHECK_THROWS_AS(Document::parse("not xml at all", "x"), util::InputError);
}

TEST_CASE("entities are never expanded from files or the network") {
    const char* hostile = "<?xml version='1.0'?>\n"
                          "<!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
                          "<a>&x;</a>";
    // Either refused or left unexpanded; never the file's content.
    try {
        Document doc = Document::parse(hostile, "hostile");
        CHECK(xml::text_of(doc.root()).find("root:") == std::string::npos);
    } catch (const util::InputError&) {}
}

TEST_CASE("an invalid XPath expression is reported") {
    Document doc = Document::parse("<a/>", "test");
    CHECK_THROWS_AS(doc.select("///["), util::InputError);
}
