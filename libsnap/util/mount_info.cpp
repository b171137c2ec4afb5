#include "util/mount_info.hpp"

#include "util/file_read.hpp"

#include <sstream>

namespace virtsnap::util {

namespace {

// mountinfo writes space, tab, newline and backslash as \ooo octal.
std::string unescape(const std::string& field) {
    std::string out;
    for (size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            const std::string digits = field.substr(i + 1, 3);
            if (digits.find_first_not_of("01234567") == std::string::npos) {
                out += static_cast<char>(std::stoi(digits, nullptr, 8));
                i += 3;
                continue;
            }
        }
        out += field[i];
    }
    return out;
}

} // namespace

std::vector<MountEntry> parse_mount_info(const std::string& text) {
    std::vector<MountEntry> entries;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
        std::istringstream fields(line);
        std::vector<std::string> words;
        for (std::string word; fields >> word;)
            words.push_back(word);
        size_t dash = 6;
        while (dash < words.size() && words[dash] != "-")
            ++dash;
        if (words.size() < 7 || dash + 2 >= words.size())
            continue;
        entries.push_back({unescape(words[4]), unescape(words[dash + 1]), unescape(words[dash + 2])});
    }
    return entries;
}

std::optional<MountEntry> find_mount(const std::string& mount_point) {
    // The kernel makes the file as it is read; 16 MiB holds any real table.
    const std::string text = read_named_file("/proc/self/mountinfo", 16 << 20, "the mount table");
    std::optional<MountEntry> found;
    for (MountEntry& entry : parse_mount_info(text))
        if (entry.mount_point == mount_point)
            found = std::move(entry);
    return found;
}

} // namespace virtsnap::util
