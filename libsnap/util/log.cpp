#include "util/log.hpp"

#include <cstdio>
#include <mutex>

namespace virtsnap::util {

namespace {

// stderr is one terminal line for every Log of the process.
std::mutex stderr_mutex;
bool status_drawn = false;

constexpr char erase_line[] = "\r\033[K";

} // namespace

void Log::write(const std::string& line) const {
    std::string text = program_ + ": " + line + "\n";
    std::lock_guard<std::mutex> lock(stderr_mutex);
    if (status_drawn) {
        text.insert(0, erase_line);
        status_drawn = false;
    }
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
}

void Log::draw_status(const std::string& text) const {
    const std::string line = erase_line + program_ + ": " + text;
    std::lock_guard<std::mutex> lock(stderr_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
    status_drawn = true;
}

void Log::clear_status() const {
    std::lock_guard<std::mutex> lock(stderr_mutex);
    if (!status_drawn)
        return;
    std::fputs(erase_line, stderr);
    std::fflush(stderr);
    status_drawn = false;
}

void Log::info(const std::string& message) const {
    if (verbosity_ != Verbosity::quiet)
        write(message);
}

void Log::warn(const std::string& message) const {
    write("warning: " + message);
}

void Log::debug(const std::string& message) const {
    if (verbosity_ == Verbosity::verbose)
        write("debug: " + message);
}

} // namespace virtsnap::util
