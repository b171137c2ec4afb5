#include "store/set_layout.hpp"

#include "xml/manifest.hpp"

#include <cctype>

namespace virtsnap::store {

std::string partial_name(const std::string& name) {
    return name + ".partial";
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

bool is_set_file_name(const std::string& name) {
    std::string base = name;
    const std::string partial = partial_name("");
    if (base.size() > partial.size() &&
        base.compare(base.size() - partial.size(), partial.size(), partial) == 0)
        base.resize(base.size() - partial.size());
    if (base == set_manifest_file || base == set_domain_xml_file || base == set_live_domain_xml_file ||
        base == set_marker_file)
        return true;
    // TARGET.FORMAT or TARGET.N.qcow2
    for (const char* suffix : {".qcow2", ".raw"}) {
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

} // namespace virtsnap::store
