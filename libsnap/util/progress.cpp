#include "util/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>

namespace virtsnap::util {

namespace {

constexpr auto plain_interval = std::chrono::seconds(5);

std::string timestamp() {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char text[16];
    std::strftime(text, sizeof text, "%H:%M:%S", &local);
    return text;
}

} // namespace

Progress::Progress(const Log& log, std::string label)
    : log_(log), label_(std::move(label)), terminal_(::isatty(STDERR_FILENO) == 1),
      last_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
    end_line();
}

void Progress::update(std::uint64_t done, std::uint64_t total) {
    if (log_.verbosity() == Verbosity::quiet)
        return;
    unsigned percent = total == 0 ? 0 : static_cast<unsigned>(done * 100 / total);
    auto now = std::chrono::steady_clock::now();
    if (terminal_) {
        std::fprintf(stderr, "\r%s: %s: %3u%%", log_.program().c_str(), label_.c_str(), percent);
        std::fflush(stderr);
        drawn_ = true;
    } else if (now - last_ >= plain_interval) {
        log_.info(timestamp() + " " + label_ + ": " + std::to_string(percent) + "%");
        last_ = now;
    }
}

void Progress::end_line() {
    if (drawn_) {
        std::fputs("\r\033[K", stderr);
        drawn_ = false;
    }
}

void Progress::finish(const std::string& message) {
    end_line();
    log_.info(label_ + ": " + message);
}

} // namespace virtsnap::util
