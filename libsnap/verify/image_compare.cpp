#include "verify/image_compare.hpp"

#include "util/error.hpp"
#include "util/subprocess.hpp"

#include <nlohmann/json.hpp>

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
