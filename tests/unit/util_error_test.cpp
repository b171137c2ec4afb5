// Names from outside (domain names, paths, directory names) reach error
// messages and listings through printable() and quoted(): a control
// character or a byte that is not UTF-8 must come out as visible text, and
// every letter of any script must come out as it is.

#include "util/error.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

using namespace virtsnap::util;

TEST_CASE("printable: C0 controls and DEL are escaped, newline and tab by name") {
    CHECK(printable("a\nb\tc") == "a\\nb\\tc");
    CHECK(printable("\x1b[31mred") == "\\x1b[31mred");
    CHECK(printable("\r\x07\x7f") == "\\x0d\\x07\\x7f");
    CHECK(printable(std::string("nul\0here", 8)) == "nul\\x00here");
    CHECK(printable("\x01\x1f") == "\\x01\\x1f");
    CHECK(printable("") == "");
    CHECK(printable("plain text, (parens) and 'quotes' ~") == "plain text, (parens) and 'quotes' ~");
}

TEST_CASE("printable: C1 controls encoded in UTF-8 are escaped byte by byte") {
    CHECK(printable("next\xc2\x85line") == "next\\xc2\\x85line"); // U+0085 NEL
    CHECK(printable("\xc2\x9b"
                    "2J") == "\\xc2\\x9b2J");                       // U+009B CSI
    CHECK(printable("\xc2\x80\xc2\x9f") == "\\xc2\\x80\\xc2\\x9f"); // the range's ends
    CHECK(printable("\xc2\xa0") == "\xc2\xa0");                     // U+00A0, a space, is no control
}

TEST_CASE("printable: bytes that are not UTF-8 are escaped one by one") {
    CHECK(printable("a\xff"
                    "b") == "a\\xffb");
    CHECK(printable("\xc0\x80") == "\\xc0\\x80");                   // an overlong NUL
    CHECK(printable("\xe0\x80\xaf") == "\\xe0\\x80\\xaf");          // an overlong '/'
    CHECK(printable("\xed\xa0\x80") == "\\xed\\xa0\\x80");          // a surrogate
    CHECK(printable("\xf4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80"); // past U+10FFFF
    CHECK(printable("\xf5\x80\x80\x80") == "\\xf5\\x80\\x80\\x80");
    CHECK(printable("\x80") == "\\x80"); // a continuation byte alone
    // Sequences cut short, at the end and in the middle of the text.
    CHECK(printable("\xc3") == "\\xc3");
    CHECK(printable("\xe6\x97") == "\\xe6\\x97");
    CHECK(printable("\xf0\x9f\x98") == "\\xf0\\x9f\\x98");
    CHECK(printable("\xe6\x97x") == "\\xe6\\x97x");
    // A bad byte does not swallow the valid text after it.
    CHECK(printable("\xff\xc3\xa9") == "\\xff\xc3\xa9");
}

TEST_CASE("printable: letters of any script and emoji are left as they are") {
    for (const char* text : {"é", "日本", "disk é.raw", "Ελληνικά", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
                             "\xef\xbf\xbd", "\xed\x9f\xbf" /* U+D7FF, just below the surrogates */}) {
        CAPTURE(text);
        CHECK(printable(text) == text);
    }
}

TEST_CASE("quoted: quotes what printable gives") {
    CHECK(quoted("/srv/my vm/disk é.raw") == "'/srv/my vm/disk é.raw'");
    CHECK(quoted("a\nb\xff") == "'a\\nb\\xff'");
}

TEST_CASE("utf8_sequence_length: the length of a valid sequence, 0 for anything else") {
    CHECK(utf8_sequence_length("a", 0) == 1);
    CHECK(utf8_sequence_length("é", 0) == 2);
    CHECK(utf8_sequence_length("日", 0) == 3);
    CHECK(utf8_sequence_length("\xf0\x9f\x98\x80", 0) == 4);
    CHECK(utf8_sequence_length("x日", 1) == 3);
    CHECK(utf8_sequence_length(std::string("\0", 1), 0) == 1);
    CHECK(utf8_sequence_length("\xff", 0) == 0);
    CHECK(utf8_sequence_length("\xc0\x80", 0) == 0);
    CHECK(utf8_sequence_length("\xc1\xbf", 0) == 0);
    CHECK(utf8_sequence_length("\xed\xa0\x80", 0) == 0);
    CHECK(utf8_sequence_length("\xf0\x8f\xbf\xbf", 0) == 0); // overlong
    CHECK(utf8_sequence_length("\xe6\x97", 0) == 0);
    CHECK(utf8_sequence_length("\xe6\x97x", 0) == 0);
}

TEST_CASE("SystemError carries errno and its text") {
    const SystemError error("cannot open 'x'", ENOENT);
    CHECK(error.error_number() == ENOENT);
    CHECK(std::string(error.what()) == "cannot open 'x': No such file or directory");
}
