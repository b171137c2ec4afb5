#include "store/set_layout.hpp"

namespace virtsnap::store {

std::string partial_name(const std::string& name) {
    return name + ".partial";
}

std::vector<std::string> disk_file_names(const std::string& target, const std::string& format,
                                         std::size_t layers) {
    std::vector<std::string> names{target + "." + format};
    for (std::size_t i = 1; i < layers; ++i)
        names.push_back(target + "." + std::to_string(i) + ".qcow2");
    return names;
}

std::string domain_sets_dir(const std::string& dest, const std::string& domain_name) {
    return dest + "/" + domain_name;
}

} // namespace virtsnap::store
