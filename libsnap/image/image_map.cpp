#include "image/image_map.hpp"

#include "image/json_number.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <limits>

#include <cerrno>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::image {

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
            extent.start = whole_number(entry.at("start"), what, "start");
            extent.length = whole_number(entry.at("length"), what, "length");
            const std::uint64_t depth = whole_number(entry.at("depth"), what, "depth");
            if (depth > static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
                throw InputError(what + ": depth " + std::to_string(depth) + " is out of range");
            extent.depth = static_cast<int>(depth);
            extent.zero = entry.at("zero").get<bool>();
            extent.data = entry.at("data").get<bool>();
            extent.present = entry.value("present", extent.data || extent.zero);
            if (entry.contains("offset"))
                extent.offset = whole_number(entry.at("offset"), what, "offset");
            if (extent.start != next || extent.length == 0 || extent.end() < extent.start)
                throw InputError(what + ": the map is not gapless at offset " + std::to_string(next));
            next = extent.end();
            extents.push_back(extent);
        }
    } catch (const nlohmann::json::exception& e) {
        throw InputError(what + ": " + e.what());
    }
    return extents;
}

std::vector<Extent> query_image_map(const std::string& path, const std::string& format,
                                    util::OnInterrupt on_interrupt) {
    util::ProcessResult result =
        util::run_process({"qemu-img", "map", "-U", "--output=json", "-f", format, path}, on_interrupt);
    if (!result.succeeded())
        throw util::Error("cannot map the content of " + quoted(path) + ": qemu-img " +
                          result.describe_failure());
    return parse_image_map(result.out, "qemu-img map of " + quoted(path));
}

std::vector<Extent> map_sparse_file(const std::string& path, std::uint64_t size) {
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw util::SystemError("cannot open " + quoted(path), errno);
    return map_sparse_file(fd.get(), path, size);
}

std::vector<Extent> map_sparse_file(int fd, const std::string& path, std::uint64_t size) {
    std::vector<Extent> extents;
    auto add = [&](std::uint64_t start, std::uint64_t end, bool data) {
        if (start >= end)
            return;
        if (!extents.empty() && extents.back().data == data) {
            extents.back().length = end - extents.back().start;
            return;
        }
        Extent extent;
        extent.start = start;
        extent.length = end - start;
        extent.present = true;
        extent.data = data;
        extent.zero = !data;
        extent.offset = start;
        extents.push_back(extent);
    };
    std::uint64_t position = 0;
    while (position < size) {
        off_t data = ::lseek(fd, static_cast<off_t>(position), SEEK_DATA);
        if (data < 0 && errno == ENXIO) // only a hole up to the end
            break;
        if (data < 0)
            throw util::SystemError("cannot map the content of " + quoted(path), errno);
        off_t hole = ::lseek(fd, data, SEEK_HOLE);
        if (hole < 0)
            throw util::SystemError("cannot map the content of " + quoted(path), errno);
        const std::uint64_t data_start = std::min<std::uint64_t>(static_cast<std::uint64_t>(data), size);
        const std::uint64_t data_end = std::min<std::uint64_t>(static_cast<std::uint64_t>(hole), size);
        add(position, data_start, false);
        add(data_start, data_end, true);
        position = std::max(data_end, position + 1);
        if (data_end <= data_start)
            break;
    }
    add(extents.empty() ? 0 : extents.back().end(), size, false);
    return extents;
}

} // namespace virtsnap::image
