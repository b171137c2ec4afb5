#include "util/progress.hpp"

#include "util/duration.hpp"

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

Progress::Progress(const Log& log, std::string label, bool bytes)
    : log_(log), label_(std::move(label)), bytes_(bytes), terminal_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

std::string Progress::describe(std::uint64_t done, std::uint64_t total) const {
    unsigned percent = total == 0 ? 100 : static_cast<unsigned>(done * 100 / total);
    std::string text = std::to_string(percent) + "%";
    if (!bytes_)
        return text;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    text += ", " + format_size(done) + " of " + format_size(total);
    if (seconds > 0.5 && done > 0) {
        double rate = static_cast<double>(done) / seconds;
        text += ", " + format_size(static_cast<std::uint64_t>(rate)) + "/s";
        if (done < total) {
            auto left = static_cast<unsigned long>(static_cast<double>(total - done) / rate);
            char eta[32];
            std::snprintf(eta, sizeof eta, ", %lu:%02lu left", left / 60, left % 60);
            text += eta;
        }
    }
    return text;
}

Progress::~Progress() {
    end_line();
}

void Progress::update(std::uint64_t done, std::uint64_t total) {
    if (log_.verbosity() == Verbosity::quiet)
        return;
    auto now = std::chrono::steady_clock::now();
    if (terminal_) {
        if (drawn_ && now - last_ < std::chrono::milliseconds(200) && done < total)
            return;
        log_.draw_status(this, label_ + ": " + describe(done, total));
        drawn_ = true;
        last_ = now;
    } else if (now - last_ >= plain_interval) {
        log_.info(timestamp() + " " + label_ + ": " + describe(done, total));
        last_ = now;
    }
}

void Progress::end_line() {
    if (drawn_) {
        log_.clear_status(this);
        drawn_ = false;
    }
}

void Progress::finish(const std::string& message) {
    end_line();
    log_.info(label_ + ": " + message);
}

} // namespace virtsnap::util
