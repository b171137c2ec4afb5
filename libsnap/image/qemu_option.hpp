#pragma once
// A value inside QEMU's option syntax (qemu-img -o, qemu-nbd --image-opts),
// where commas separate options: a comma that belongs to the value is
// doubled.

#include <string>

namespace virtsnap::image {

inline std::string escape_commas(const std::string& value) {
    std::string escaped;
    for (char c : value) {
        escaped += c;
        if (c == ',')
            escaped += ',';
    }
    return escaped;
}

} // namespace virtsnap::image
