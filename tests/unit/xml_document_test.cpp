#include "util/error.hpp"
#include "xml/document.hpp"

#include <doctest/doctest.h>

#include <chrono>

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

namespace {

void check_dtd_refused(const std::string& text) {
    CAPTURE(text.substr(0, 200));
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH_AS(Document::parse(text, "manifest 'm.xml'"),
                         doctest::Contains("manifest 'm.xml' declares a DTD"), util::InputError);
    // Refused at the DOCTYPE, before any entity is declared, let alone expanded.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
}

} // namespace

TEST_CASE("any DTD is refused: internal subset, external DOCTYPE, bare DOCTYPE") {
    check_dtd_refused("<?xml version='1.0'?>\n<!DOCTYPE a [<!ELEMENT a (#PCDATA)>]>\n<a>x</a>");
    check_dtd_refused("<!DOCTYPE a SYSTEM 'http://example.com/a.dtd'>\n<a/>");
    check_dtd_refused("<!DOCTYPE a PUBLIC '-//X//DTD X//EN' 'file:///etc/passwd'>\n<a/>");
    check_dtd_refused("<!DOCTYPE a>\n<a/>");
    check_dtd_refused(
        "<?xml version='1.0'?>\n<!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n<a>&x;</a>");
}

TEST_CASE("the billion laughs are refused at once") {
    std::string text = "<?xml version='1.0'?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 'lol'>\n";
    for (int i = 1; i <= 9; ++i)
        text += "<!ENTITY lol" + std::to_string(i) + " '" + [&] {
            std::string ten;
            for (int j = 0; j < 10; ++j)
                ten += "&lol" + std::to_string(i - 1) + ";";
            return ten;
        }() + "'>\n";
    text += "]>\n<lolz a='&lol9;'>&lol9;</lolz>";
    check_dtd_refused(text);
}

TEST_CASE("a document that follows a RELAX NG schema passes, one that does not is refused by line") {
    const xml::Schema schema(R"(<element name="list" xmlns="http://relaxng.org/ns/structure/1.0">
  <attribute name="version"><value>1</value></attribute>
  <zeroOrMore><element name="item"><attribute name="name"/></element></zeroOrMore>
</element>)",
                             "the list schema");
    CHECK(schema.name() == "the list schema");
    CHECK(schema.get() != nullptr);
    Document::parse("<list version='1'>\n<item name='a'/>\n<item name='b'/>\n</list>", "good")
        .validate(schema);
    Document::parse("<list version='1'/>", "empty").validate(schema);

    CHECK_THROWS_WITH_AS(
        Document::parse("<list version='1'>\n<item name='a'/>\n<other/>\n</list>", "list 'l.xml'")
            .validate(schema),
        doctest::Contains("list 'l.xml' does not follow the list schema: line 3: "), util::InputError);
    CHECK_THROWS_WITH_AS(
        Document::parse("<list version='1'>\n\n<item name='a' extra='x'/>\n</list>", "list").validate(schema),
        doctest::Contains("does not follow the list schema: line 3: "), util::InputError);
    CHECK_THROWS_WITH_AS(Document::parse("<list version='2'/>", "list").validate(schema),
                         doctest::Contains("does not follow the list schema"), util::InputError);
    CHECK_THROWS_AS(Document::parse("<other/>", "list").validate(schema), util::InputError);
}

TEST_CASE("a schema that does not compile is an internal error, not an input error") {
    try {
        xml::Schema schema("<element xmlns='http://relaxng.org/ns/structure/1.0'/>", "the broken schema");
        FAIL("a broken schema compiled");
    } catch (const util::InputError&) {
        FAIL("a broken schema is virtsnap's bug, not bad input");
    } catch (const util::Error& e) {
        CHECK(std::string(e.what()).find("the broken schema does not compile") != std::string::npos);
    }
}
