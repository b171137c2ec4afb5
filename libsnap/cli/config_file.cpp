#include "cli/config_file.hpp"

#include "util/error.hpp"
#include "util/file_read.hpp"

#include <boost/program_options/errors.hpp>
#include <boost/program_options/parsers.hpp>

#include <cerrno>
#include <sstream>
#include <sys/stat.h>

namespace po = boost::program_options;

namespace virtsnap::cli {

using util::quoted;

namespace {

constexpr const char* domain_prefix = "domain:";
// A configuration file is a few hundred lines; anything far larger is not one.
constexpr std::size_t config_limit = 1U << 20;

std::string trimmed(const std::string& text) {
    const std::size_t first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos)
        return "";
    return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// The line of each occurrence of each "section.key", in order: Boost's
// parser does not say where an option was, and an error must. Before Boost
// reads the file, this refuses, with its line, what Boost would report
// without one or read otherwise than it looks: a line that is neither
// KEY = VALUE nor [SECTION], an empty key, a NUL byte, and a section name
// that is empty, padded with spaces or ends in a dot (Boost would run it
// into the key after it, so [domain:X.] would set domain X).
std::map<std::string, std::vector<int>> key_lines(const std::string& text, const std::string& path) {
    std::map<std::string, std::vector<int>> lines;
    std::istringstream in(text);
    std::string line, section;
    for (int number = 1; std::getline(in, line); ++number) {
        const std::string at = path + ":" + std::to_string(number) + ": ";
        if (line.find('\0') != std::string::npos)
            throw util::UsageError(at + "a NUL byte");
        line = trimmed(line.substr(0, line.find('#')));
        if (line.empty())
            continue;
        if (line.front() == '[') {
            const std::string name = line.back() == ']' ? line.substr(1, line.size() - 2) : "";
            if (line.back() != ']' || name.empty() || name != trimmed(name) || name.back() == '.')
                throw util::UsageError(at + quoted(line) + " is not a section header (write [domain:NAME])");
            section = name;
            continue;
        }
        const std::size_t equals = line.find('=');
        if (equals == std::string::npos)
            throw util::UsageError(at + quoted(line) + " is neither KEY = VALUE nor a [section]");
        const std::string key = trimmed(line.substr(0, equals));
        if (key.empty())
            throw util::UsageError(at + "a value without a key");
        lines[section.empty() ? key : section + "." + key].push_back(number);
    }
    return lines;
}

std::string where(const ConfigFile& file, const ConfigEntry& entry) {
    return file.path() + ":" + std::to_string(entry.line) + ": " + quoted(entry.key);
}

} // namespace

std::optional<ConfigFile> ConfigFile::load(const std::string& path, bool must_exist) {
    const std::string what = "configuration file " + quoted(path);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT && !must_exist)
            return std::nullopt;
        throw util::UsageError(what + (errno == ENOENT ? " does not exist" : " cannot be read"));
    }
    // The default file, which nobody named, must be a plain file; one the
    // user named is read as named (a link followed, a pipe read), bounded.
    if (!must_exist && !S_ISREG(st.st_mode))
        throw util::UsageError(what + " is not a regular file");
    std::optional<std::string> text;
    try {
        text = util::read_named_file(path, config_limit, what);
    } catch (const util::Error& error) {
        throw util::UsageError(error.what());
    }
    ConfigFile file;
    file.path_ = path;
    std::map<std::string, std::vector<int>> lines = key_lines(*text, path);
    std::istringstream in(*text);
    po::parsed_options parsed(nullptr);
    try {
        parsed = po::parse_config_file(in, po::options_description(), true);
    } catch (const po::error& error) {
        throw util::UsageError(path + ": " + error.what());
    }
    std::map<std::string, std::size_t> seen;
    for (const po::option& option : parsed.options) {
        ConfigEntry entry;
        const std::string& full = option.string_key;
        const std::vector<int>& at = lines[full];
        const std::size_t n = seen[full]++;
        entry.line = n < at.size() ? at[n] : 0;
        entry.value = option.value.empty() ? "" : option.value.front();
        // Keys hold no dot, domain names may: the section ends at the last one.
        const std::size_t dot = full.rfind('.');
        if (dot == std::string::npos) {
            entry.key = full;
            file.global_.push_back(std::move(entry));
            continue;
        }
        const std::string section = full.substr(0, dot);
        entry.key = full.substr(dot + 1);
        if (section.rfind(domain_prefix, 0) != 0 || section.size() == std::string(domain_prefix).size())
            throw util::UsageError(path + ":" + std::to_string(entry.line) + ": section " + quoted(section) +
                                   " is not one this file may have (only [domain:NAME])");
        file.domains_[section.substr(std::string(domain_prefix).size())].push_back(std::move(entry));
    }
    return file;
}

const std::vector<ConfigEntry>& ConfigFile::domain(const std::string& name) const {
    static const std::vector<ConfigEntry> none;
    auto found = domains_.find(name);
    return found == domains_.end() ? none : found->second;
}

std::vector<std::string> ConfigFile::domain_sections() const {
    std::vector<std::string> names;
    for (const auto& [name, entries] : domains_)
        names.push_back(name);
    return names;
}

void store_config_entries(const ConfigFile& file, const std::vector<ConfigEntry>& entries,
                          const po::options_description& allowed, po::variables_map& vm,
                          const std::function<std::string(const std::string& key)>& refused_reason) {
    po::parsed_options parsed(&allowed);
    for (const ConfigEntry& entry : entries) {
        const po::option_description* option = allowed.find_nothrow(entry.key, false, false, false);
        if (!option || entry.key.size() < 2)
            throw util::UsageError(where(file, entry) + " is not an option of this tool");
        if (const std::string reason = refused_reason(entry.key); !reason.empty())
            throw util::UsageError(where(file, entry) + ": " + reason);
        po::option value;
        value.string_key = entry.key;
        value.value.push_back(entry.value);
        value.original_tokens = {entry.key, entry.value};
        // Alone first, so that a bad value is reported with its line.
        po::parsed_options alone(&allowed);
        alone.options.push_back(value);
        po::variables_map scratch;
        try {
            po::store(alone, scratch);
        } catch (const po::error& error) {
            throw util::UsageError(where(file, entry) + ": " + error.what());
        }
        parsed.options.push_back(std::move(value));
    }
    // Then together: a key given twice is an error (the later line named)
    // unless it may repeat (include-domain, exclude-domain).
    try {
        po::store(parsed, vm);
    } catch (const po::error& error) {
        const ConfigEntry* culprit = nullptr;
        const auto* named = dynamic_cast<const po::error_with_option_name*>(&error);
        for (const ConfigEntry& entry : entries)
            if (named && named->get_option_name().find(entry.key) != std::string::npos)
                culprit = &entry;
        throw util::UsageError((culprit ? where(file, *culprit) : file.path()) + ": " + error.what());
    }
}

} // namespace virtsnap::cli
