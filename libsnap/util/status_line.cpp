#include "util/status_line.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

namespace virtsnap::util {

namespace {

constexpr char separator[] = " | ";

// text cut to at most max bytes, never inside a UTF-8 character.
std::string cut(std::string text, std::size_t max) {
    if (text.size() <= max)
        return text;
    // A UTF-8 continuation byte (10xxxxxx) belongs to the character before.
    while (max > 0 && (static_cast<unsigned char>(text[max]) & 0xC0) == 0x80)
        --max;
    text.resize(max);
    return text;
}

std::string join(const std::string& program, const std::vector<std::string>& texts) {
    std::string line = program + ":";
    for (std::size_t i = 0; i < texts.size(); ++i)
        line += (i == 0 ? " " : separator) + texts[i];
    return line;
}

} // namespace

std::string compose_status_line(const std::string& program, const std::vector<std::string>& texts,
                                std::size_t columns) {
    const std::size_t limit = columns > 1 ? columns - 1 : 0;
    std::string line = join(program, texts);
    if (line.size() <= limit || texts.size() < 2)
        return cut(line, limit);
    // Too long: every step keeps an equal share, so each still shows its
    // label and percentage rather than the last ones falling off the end.
    const std::size_t fixed = program.size() + 2 + (texts.size() - 1) * (sizeof separator - 1);
    const std::size_t share = limit > fixed ? (limit - fixed) / texts.size() : 0;
    std::vector<std::string> shortened;
    shortened.reserve(texts.size());
    for (const std::string& text : texts)
        shortened.push_back(cut(text, share));
    return cut(join(program, shortened), limit);
}

std::size_t terminal_columns() noexcept {
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    return 80;
}

} // namespace virtsnap::util
