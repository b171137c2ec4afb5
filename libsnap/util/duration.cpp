#include "util/duration.hpp"

#include "util/error.hpp"

#include <cctype>
#include <cstdio>
#include <limits>

namespace virtsnap::util {

namespace {

// Splits "500ms" into 500 and "ms"; false when the number part is missing,
// not decimal, or too large.
bool split_number(const std::string& text, std::uint64_t& number, std::string& unit) {
    size_t i = 0;
    number = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
        std::uint64_t digit = static_cast<std::uint64_t>(text[i] - '0');
        if (number > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
            return false;
        number = number * 10 + digit;
        ++i;
    }
    unit = text.substr(i);
    return i > 0;
}

} // namespace

std::chrono::milliseconds parse_duration(const std::string& text, const std::string& option) {
    std::uint64_t number = 0;
    std::string unit;
    const std::uint64_t limit = 366ULL * 24 * 3600 * 1000; // a year is long enough for any wait
    if (split_number(text, number, unit)) {
        std::uint64_t factor = 0;
        if (unit.empty() || unit == "s")
            factor = 1000;
        else if (unit == "ms")
            factor = 1;
        else if (unit == "m")
            factor = 60'000;
        else if (unit == "h")
            factor = 3'600'000;
        if (factor != 0 && number <= limit / factor)
            return std::chrono::milliseconds(static_cast<std::int64_t>(number * factor));
    }
    throw UsageError("--" + option + " " + quoted(text) +
                     " is not a duration (examples: 10, 10s, 500ms, 2m)");
}

std::uint64_t parse_size(const std::string& text, const std::string& option) {
    std::uint64_t number = 0;
    std::string unit;
    if (split_number(text, number, unit)) {
        int shift = -1;
        if (unit.empty() || unit == "B")
            shift = 0;
        else if (unit == "K" || unit == "KiB")
            shift = 10;
        else if (unit == "M" || unit == "MiB")
            shift = 20;
        else if (unit == "G" || unit == "GiB")
            shift = 30;
        else if (unit == "T" || unit == "TiB")
            shift = 40;
        if (shift >= 0 && number <= (std::numeric_limits<std::uint64_t>::max() >> shift))
            return number << shift;
    }
    throw UsageError("--" + option + " " + quoted(text) + " is not a size (examples: 0, 512M, 2G)");
}

std::uint64_t parse_count(const std::string& text, const std::string& option, std::uint64_t min,
                          std::uint64_t max) {
    const bool digits =
        !text.empty() && text.size() <= 19 && text.find_first_not_of("0123456789") == std::string::npos;
    const std::uint64_t number = digits ? std::stoull(text) : 0;
    if (!digits || number < min || number > max)
        throw UsageError("--" + option + " must be a whole number from " + std::to_string(min) + " to " +
                         std::to_string(max) + ", not " + quoted(text));
    return number;
}

std::string format_size(std::uint64_t bytes) {
    static const char* const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024)
        return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
    double value = static_cast<double>(bytes);
    int unit = -1;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, value < 10 ? "%.1f %s" : "%.0f %s", value, units[unit]);
    return text;
}

} // namespace virtsnap::util
