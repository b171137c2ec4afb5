#include "util/error.hpp"

#include <cstring>

namespace virtsnap::util {

SystemError::SystemError(const std::string& context, int error_number)
    : Error(context + ": " + std::strerror(error_number)), errno_(error_number) {}

namespace {

void escape_byte(std::string& out, unsigned char byte) {
    static const char hex[] = "0123456789abcdef";
    out += "\\x";
    out += hex[byte >> 4];
    out += hex[byte & 0xf];
}

} // namespace

std::size_t utf8_sequence_length(const std::string& text, std::size_t at) noexcept {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(at);
    std::size_t length = lead < 0x80                    ? 1
                         : lead >= 0xc2 && lead <= 0xdf ? 2
                         : lead >= 0xe0 && lead <= 0xef ? 3
                         : lead >= 0xf0 && lead <= 0xf4 ? 4
                                                        : 0;
    if (length == 0 || at + length > text.size())
        return 0;
    for (std::size_t i = 1; i < length; ++i)
        if ((byte(at + i) & 0xc0) != 0x80)
            return 0;
    // Overlong forms, surrogates and code points past U+10FFFF.
    const unsigned char second = length > 1 ? byte(at + 1) : 0;
    if ((lead == 0xe0 && second < 0xa0) || (lead == 0xed && second >= 0xa0) ||
        (lead == 0xf0 && second < 0x90) || (lead == 0xf4 && second >= 0x90))
        return 0;
    return length;
}

std::string printable(const std::string& text, bool escape_backslash) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t at = 0; at < text.size();) {
        const auto byte = static_cast<unsigned char>(text[at]);
        const std::size_t length = utf8_sequence_length(text, at);
        if (length == 0) {
            escape_byte(out, byte); // not UTF-8: a byte a terminal might take as a control
            ++at;
        } else if (text[at] == '\n') {
            out += "\\n";
            ++at;
        } else if (text[at] == '\t') {
            out += "\\t";
            ++at;
        } else if (text[at] == '\\' && escape_backslash) {
            out += "\\\\"; // so that "\x1b" in a name cannot pass for an escape
            ++at;
        } else if (byte < 0x20 || byte == 0x7f ||
                   (length == 2 && byte == 0xc2 && static_cast<unsigned char>(text[at + 1]) < 0xa0)) {
            // C0 and C1 controls (U+0080 to U+009F include the 8-bit CSI).
            for (std::size_t i = 0; i < length; ++i)
                escape_byte(out, static_cast<unsigned char>(text[at + i]));
            at += length;
        } else {
            out.append(text, at, length);
            at += length;
        }
    }
    return out;
}

std::string quoted(const std::string& text) {
    return "'" + printable(text, true) + "'";
}

} // namespace virtsnap::util
