#include "copy/image_map.hpp"

#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <nlohmann/json.hpp>

namespace virtsnap::copy {

using util::InputError;
using util::quoted;

std::vector<Extent> parse_image_map(const std::string& json, const std::string& what) {
    std::vector<Extent> extents;
    try {
        nlohmann::json document = nlohmann::json::parse(json);
        if (!document.is_array())
            throw InputError(what + ": expected a JSON array");
        std::uint64_t next = 0;
        for (const nlohmann::json& entry : document) {
            Extent extent;
            extent.start = entry.at("start").get<std::uint64_t>();
            extent.length = entry.at("length").get<std::uint64_t>();
            extent.depth = entry.at("depth").get<int>();
            extent.zero = entry.at("zero").get<bool>();
            extent.data = entry.at("data").get<bool>();
            extent.present = entry.value("present", extent.data || extent.zero);
            if (entry.contains("offset"))
                extent.offset = entry.at("offset").get<std::uint64_t>();
            if (extent.start != next || extent.length == 0 || extent.depth < 0 || extent.end() < extent.start)
                throw InputError(what + ": the map is not gapless at offset " + std::to_string(next));
            next = extent.end();
            extents.push_back(extent);
        }
    } catch (const nlohmann::json::exception& e) {
        throw InputError(what + ": " + e.what());
    }
    return extents;
}

std::vector<Extent> query_image_map(const std::string& path, const std::string& format) {
    util::ProcessResult result =
        util::run_process({"qemu-img", "map", "-U", "--output=json", "-f", format, path});
    if (!result.succeeded())
        throw util::Error("cannot map the content of " + quoted(path) + ": qemu-img " +
                          result.describe_failure());
    return parse_image_map(result.out, "qemu-img map of " + quoted(path));
}

} // namespace virtsnap::copy
