#include "image/qemu_img.hpp"

#include "image/json_number.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <nlohmann/json.hpp>

namespace virtsnap::image {

using util::InputError;
using util::quoted;

namespace {

template <typename T> T optional_field(const nlohmann::json& object, const char* key, T fallback) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
        return fallback;
    return it->get<T>();
}

// A size in bytes; 0 when absent.
std::uint64_t optional_size(const nlohmann::json& object, const char* key, const std::string& what) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
        return 0;
    return whole_number(*it, what, key);
}

ImageInfo parse_one(const nlohmann::json& object, const std::string& what) {
    if (!object.is_object() || !object.contains("filename") || !object.contains("format"))
        throw InputError(what + ": an entry of the backing chain lacks filename or format");
    ImageInfo info;
    info.filename = object.at("filename").get<std::string>();
    info.format = object.at("format").get<std::string>();
    info.virtual_size = optional_size(object, "virtual-size", what);
    info.actual_size = optional_size(object, "actual-size", what);
    info.cluster_size = optional_size(object, "cluster-size", what);
    info.backing_filename = optional_field<std::string>(object, "backing-filename", "");
    info.dirty = optional_field<bool>(object, "dirty-flag", false);
    info.encrypted = optional_field<bool>(object, "encrypted", false);
    auto specific = object.find("format-specific");
    if (specific != object.end() && specific->is_object() && specific->value("type", "") == "qcow2") {
        const nlohmann::json data = specific->value("data", nlohmann::json::object());
        info.compat = optional_field<std::string>(data, "compat", "");
        info.lazy_refcounts = optional_field<bool>(data, "lazy-refcounts", false);
        info.extended_l2 = optional_field<bool>(data, "extended-l2", false);
        info.data_file = optional_field<std::string>(data, "data-file", "");
    }
    return info;
}

} // namespace

std::vector<ImageInfo> parse_image_chain(const std::string& json, const std::string& what) {
    std::vector<ImageInfo> chain;
    try {
        nlohmann::json document = nlohmann::json::parse(json);
        // A single image without --backing-chain comes as one object.
        if (document.is_object()) {
            chain.push_back(parse_one(document, what));
        } else if (document.is_array()) {
            for (const nlohmann::json& entry : document)
                chain.push_back(parse_one(entry, what));
        } else {
            throw InputError(what + ": expected a JSON object or array");
        }
    } catch (const nlohmann::json::exception& e) {
        throw InputError(what + ": " + e.what());
    }
    if (chain.empty())
        throw InputError(what + ": empty backing chain");
    return chain;
}

std::vector<ImageInfo> query_image_chain(const std::string& path, const std::string& format,
                                         util::OnInterrupt on_interrupt) {
    std::vector<std::string> argv{"qemu-img", "info", "--backing-chain", "--output=json", "-U"};
    if (!format.empty()) {
        argv.push_back("-f");
        argv.push_back(format);
    }
    argv.push_back(path);
    util::ProcessResult result = util::run_process(argv, on_interrupt);
    if (!result.succeeded())
        throw util::Error("cannot read the backing chain of " + quoted(path) + ": qemu-img " +
                          result.describe_failure());
    return parse_image_chain(result.out, "qemu-img info of " + quoted(path));
}

} // namespace virtsnap::image
