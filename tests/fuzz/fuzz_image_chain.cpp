// image::parse_image_chain: the JSON of `qemu-img info --backing-chain`,
// whose names and sizes come from images a guest may have written. Anything
// but a chain is an InputError; a chain is never empty.

#include "image/qemu_img.hpp"
#include "util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace image = virtsnap::image;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string json(reinterpret_cast<const char*>(data), size);
    try {
        if (image::parse_image_chain(json, "fuzz input").empty())
            std::abort();
    } catch (const virtsnap::util::InputError&) {}
    return 0;
}
