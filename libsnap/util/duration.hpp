#pragma once
// Durations, sizes and counts as administrators write them on a command line.

#include <chrono>
#include <cstdint>
#include <string>

namespace virtsnap::util {

// "10" (seconds), "10s", "500ms", "2m", "1h". Throws UsageError naming option.
std::chrono::milliseconds parse_duration(const std::string& text, const std::string& option);

// "0", "512", "64K", "100M", "2G", "1T" (powers of 1024). Throws UsageError.
std::uint64_t parse_size(const std::string& text, const std::string& option);

// A whole number from min to max, digits only ("-1" and "1e3" are not).
// Throws UsageError naming option and the range.
std::uint64_t parse_count(const std::string& text, const std::string& option, std::uint64_t min,
                          std::uint64_t max);

// Whole milliseconds of a duration, for messages and records.
template <class Rep, class Period> long long to_ms(std::chrono::duration<Rep, Period> d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

// "1.5 GiB", "640 KiB", "12 bytes".
std::string format_size(std::uint64_t bytes);

} // namespace virtsnap::util
