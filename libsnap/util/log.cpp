#include "util/log.hpp"

#include "util/error.hpp"
#include "util/status_line.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <unistd.h>
#include <utility>
#include <vector>

namespace virtsnap::util {

namespace {

// stderr is one terminal line for every Log of the process.
std::mutex stderr_mutex;
// LogCopy's file, or -1; guarded by stderr_mutex.
int log_copy_fd = -1;
// The parts of the status line, in the order their owners first drew them,
// and the program that drew them last; guarded by stderr_mutex.
std::vector<std::pair<const void*, std::string>> status_parts;
std::string status_program;
bool status_drawn = false;

constexpr char erase_line[] = "\r\033[K";

// The status line as it must be on the terminal now (empty: no line).
std::string status_text_locked() {
    if (status_parts.empty())
        return {};
    std::vector<std::string> texts;
    texts.reserve(status_parts.size());
    for (const auto& part : status_parts)
        texts.push_back(part.second);
    return compose_status_line(status_program, texts, terminal_columns());
}

// Writes prefix (a finished message, or nothing) and then the status line
// as it must be now, over the one drawn before if any.
void redraw_locked(std::string prefix) {
    std::string status = status_text_locked();
    if (status_drawn)
        prefix.insert(0, erase_line);
    std::string text = prefix + status;
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
    status_drawn = !status.empty();
}

} // namespace

void Log::write(const std::string& line) const {
    // One line whatever the message carries (a manifest's failure text, a
    // domain's name, libvirt's message): control characters escaped.
    const std::string text = program_ + ": " + printable(line) + "\n";
    std::lock_guard<std::mutex> lock(stderr_mutex);
    redraw_locked(text);
    if (log_copy_fd >= 0)
        (void)!::write(log_copy_fd, text.data(), text.size());
}

LogCopy::LogCopy(UniqueFd fd) : fd_(std::move(fd)) {
    std::lock_guard<std::mutex> lock(stderr_mutex);
    log_copy_fd = fd_.get();
}

LogCopy::~LogCopy() {
    std::lock_guard<std::mutex> lock(stderr_mutex);
    log_copy_fd = -1;
}

void LogCopy::append(const std::string& text) const {
    std::lock_guard<std::mutex> lock(stderr_mutex);
    (void)!::write(fd_.get(), text.data(), text.size());
}

void LogCopy::sync() const {
    std::lock_guard<std::mutex> lock(stderr_mutex);
    ::fsync(fd_.get());
}

void Log::draw_status(const void* owner, const std::string& text) const {
    std::lock_guard<std::mutex> lock(stderr_mutex);
    auto part = std::find_if(status_parts.begin(), status_parts.end(),
                             [owner](const auto& entry) { return entry.first == owner; });
    if (part == status_parts.end())
        status_parts.emplace_back(owner, text);
    else
        part->second = text;
    status_program = program_;
    redraw_locked({});
}

void Log::clear_status(const void* owner) const {
    std::lock_guard<std::mutex> lock(stderr_mutex);
    auto part = std::find_if(status_parts.begin(), status_parts.end(),
                             [owner](const auto& entry) { return entry.first == owner; });
    if (part == status_parts.end())
        return;
    status_parts.erase(part);
    redraw_locked({});
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
