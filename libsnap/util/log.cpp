#include "util/log.hpp"

#include <cstdio>

namespace virtsnap::util {

void Log::write(const std::string& line) const {
    std::string text = program_ + ": " + line + "\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
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
