#include "verify/image_compare.hpp"

#include "image/image_map.hpp"
#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace virtsnap::verify {

using util::quoted;

std::optional<std::uint64_t> mismatch_offset(const std::string& compare_output) {
    static const std::string marker = "Content mismatch at offset ";
    size_t at = compare_output.find(marker);
    if (at == std::string::npos)
        return std::nullopt;
    size_t start = at + marker.size();
    size_t end = start;
    while (end < compare_output.size() && std::isdigit(static_cast<unsigned char>(compare_output[end])))
        ++end;
    if (end == start || end - start > 20)
        return std::nullopt;
    try {
        return std::stoull(compare_output.substr(start, end - start));
    } catch (const std::out_of_range&) {
        return std::nullopt;
    }
}

CheckOutcome compare_with_source(const std::string& source, const std::string& source_format,
                                 const std::string& backup, const std::string& backup_format) {
    util::ProcessResult result = util::run_process(
        {"qemu-img", "compare", "-U", "-f", source_format, "-F", backup_format, source, backup},
        util::OnInterrupt::stop_child);
    if (result.exit_status == 0)
        return {true, "identical to the frozen image"};
    if (result.exit_status == 1) {
        std::optional<std::uint64_t> offset = mismatch_offset(result.out + result.err);
        return {false, offset ? "differs from the frozen image, first at offset " + std::to_string(*offset)
                              : "differs from the frozen image"};
    }
    throw util::Error("cannot compare " + quoted(backup) + " with " + quoted(source) + ": qemu-img " +
                      result.describe_failure());
}

namespace {

// A qcow2 file opened alone: its backing file is not opened at all.
std::string without_backing(const std::string& path) {
    nlohmann::json spec = {
        {"driver", "qcow2"}, {"backing", nullptr}, {"file", {{"driver", "file"}, {"filename", path}}}};
    return "json:" + spec.dump();
}

// The ranges an image holds itself (depth 0: data, or zero clusters).
std::vector<image::Extent> own_ranges(const std::string& path) {
    std::vector<image::Extent> own;
    for (const image::Extent& extent : image::query_image_map(path, "qcow2", util::OnInterrupt::stop_child))
        if (extent.depth == 0 && (extent.present || extent.data || extent.zero))
            own.push_back(extent);
    return own;
}

// The first offset the overlay holds and the layer does not; none when the
// layer holds all of it.
std::optional<std::uint64_t> first_uncovered(const std::vector<image::Extent>& overlay,
                                             const std::vector<image::Extent>& layer) {
    std::size_t j = 0;
    for (const image::Extent& need : overlay) {
        std::uint64_t at = need.start;
        while (at < need.end()) {
            while (j < layer.size() && layer[j].end() <= at)
                ++j;
            if (j == layer.size() || layer[j].start > at)
                return at;
            at = std::min(need.end(), layer[j].end());
        }
    }
    return std::nullopt;
}

} // namespace

CheckOutcome compare_layer_with_source(const std::string& overlay, const std::string& layer) {
    const std::optional<std::uint64_t> missing = first_uncovered(own_ranges(overlay), own_ranges(layer));
    if (missing)
        return {false, "the layer does not hold the range at offset " + std::to_string(*missing) +
                           " that the kept overlay holds, so the older sets' data would show there"};
    util::ProcessResult result =
        util::run_process({"qemu-img", "compare", "-U", without_backing(overlay), without_backing(layer)},
                          util::OnInterrupt::stop_child);
    if (result.exit_status == 0)
        return {true, "the layer holds exactly what the kept overlay held"};
    if (result.exit_status == 1) {
        std::optional<std::uint64_t> offset = mismatch_offset(result.out + result.err);
        return {false,
                offset ? "the layer differs from the kept overlay, first at offset " + std::to_string(*offset)
                       : "the layer differs from the kept overlay"};
    }
    throw util::Error("cannot compare " + quoted(layer) + " with " + quoted(overlay) + ": qemu-img " +
                      result.describe_failure());
}

CheckOutcome check_qcow2_structure(const std::string& path) {
    util::ProcessResult result = util::run_process(
        {"qemu-img", "check", "--output=json", "-f", "qcow2", path}, util::OnInterrupt::stop_child);
    std::uint64_t corruptions = 0, leaks = 0, check_errors = 0;
    try {
        nlohmann::json report = nlohmann::json::parse(result.out);
        corruptions = report.value("corruptions", 0ULL);
        leaks = report.value("leaks", 0ULL);
        check_errors = report.value("check-errors", 0ULL);
    } catch (const nlohmann::json::exception&) {
        // A header too damaged to open: qemu-img says so on stderr.
        return {false, "qemu-img check cannot read it: " + result.describe_failure()};
    }
    if (corruptions > 0 || check_errors > 0)
        return {false, "qemu-img check found " + std::to_string(corruptions) + " corruption(s) and " +
                           std::to_string(check_errors) + " error(s)"};
    if (leaks > 0)
        return {true,
                "qemu-img check: consistent, " + std::to_string(leaks) + " leaked cluster(s) (harmless)"};
    return {true, "qemu-img check: consistent"};
}

} // namespace virtsnap::verify
