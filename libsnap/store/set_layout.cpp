#include "store/set_layout.hpp"

#include "xml/manifest.hpp"

#include <cctype>

namespace virtsnap::store {

std::string partial_name(const std::string& name) {
    return name + ".partial";
}

std::string block_sums_file_name(const std::string& target) {
    return xml::block_sums_file_name(target);
}

std::vector<std::string> disk_file_names(const std::string& target, const std::string& format,
                                         std::size_t layers) {
    return xml::backup_file_names(target, format, layers);
}

bool is_set_id(const std::string& name) {
    // DDDDDDDD-DDDDDD-DDD-XXXX: the time, then four letters or digits (the
    // random part is hexadecimal; other letters are not refused).
    if (name.size() != 24)
        return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        const bool dash = i == 8 || i == 15 || i == 19;
        if (dash ? c != '-' : i < 19 ? !std::isdigit(c) : !std::isalnum(c))
            return false;
    }
    return true;
}

std::optional<std::time_t> set_id_time(const std::string& name) {
    if (!is_set_id(name))
        return std::nullopt;
    auto number = [&](size_t at, size_t length) { return std::stoi(name.substr(at, length)); };
    std::tm tm{};
    tm.tm_year = number(0, 4) - 1900;
    tm.tm_mon = number(4, 2) - 1;
    tm.tm_mday = number(6, 2);
    tm.tm_hour = number(9, 2);
    tm.tm_min = number(11, 2);
    tm.tm_sec = number(13, 2);
    const std::tm asked = tm;
    const std::time_t time = ::timegm(&tm);
    // timegm normalises what is out of range (month 13 becomes January):
    // such an id names no real time.
    if (time == static_cast<std::time_t>(-1) || tm.tm_year != asked.tm_year || tm.tm_mon != asked.tm_mon ||
        tm.tm_mday != asked.tm_mday || tm.tm_hour != asked.tm_hour || tm.tm_min != asked.tm_min ||
        tm.tm_sec != asked.tm_sec)
        return std::nullopt;
    return time;
}

bool is_set_file_name(const std::string& name) {
    std::string base = name;
    const std::string partial = partial_name("");
    if (base.size() > partial.size() &&
        base.compare(base.size() - partial.size(), partial.size(), partial) == 0)
        base.resize(base.size() - partial.size());
    if (base == set_manifest_file || base == set_domain_xml_file || base == set_live_domain_xml_file ||
        base == set_marker_file)
        return true;
    // TARGET.FORMAT, TARGET.N.qcow2 or TARGET.blocks
    for (const char* suffix : {".qcow2", ".raw", ".blocks"}) {
        const std::string s = suffix;
        if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0) {
            const std::string stem = base.substr(0, base.size() - s.size());
            return !stem.empty() &&
                   stem.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.") == std::string::npos &&
                   stem.front() != '.';
        }
    }
    return false;
}

std::string domain_sets_dir(const std::string& dest, const std::string& domain_name) {
    return dest + "/" + domain_name;
}

namespace {

constexpr const char* synthetic_prefix = ".synthetic-";
constexpr const char* aside_suffix = ".old";

} // namespace

std::string synthetic_work_name(const std::string& set_id) {
    return synthetic_prefix + set_id;
}

std::string synthetic_aside_name(const std::string& set_id) {
    return synthetic_work_name(set_id) + aside_suffix;
}

std::optional<SyntheticName> parse_synthetic_name(const std::string& name) {
    const std::string prefix = synthetic_prefix;
    const std::string suffix = aside_suffix;
    if (name.compare(0, prefix.size(), prefix) != 0)
        return std::nullopt;
    SyntheticName parsed;
    parsed.set_id = name.substr(prefix.size());
    if (parsed.set_id.size() > suffix.size() &&
        parsed.set_id.compare(parsed.set_id.size() - suffix.size(), suffix.size(), suffix) == 0) {
        parsed.set_id.resize(parsed.set_id.size() - suffix.size());
        parsed.aside = true;
    }
    if (!is_set_id(parsed.set_id))
        return std::nullopt;
    return parsed;
}

} // namespace virtsnap::store
