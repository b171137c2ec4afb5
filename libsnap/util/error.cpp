#include "util/error.hpp"

#include <cstring>

namespace virtsnap::util {

SystemError::SystemError(const std::string& context, int error_number)
    : Error(context + ": " + std::strerror(error_number)), errno_(error_number) {}

std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out + "'";
}

} // namespace virtsnap::util
