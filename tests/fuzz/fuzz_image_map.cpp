// image::parse_image_map: the JSON of `qemu-img map`, run on images a guest
// wrote. Anything but a gapless, ordered map is an InputError; what it
// returns is what the copy engine trusts to read only inside the disk.

#include "image/image_map.hpp"
#include "util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace image = virtsnap::image;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string json(reinterpret_cast<const char*>(data), size);
    std::vector<image::Extent> map;
    try {
        map = image::parse_image_map(json, "fuzz input");
    } catch (const virtsnap::util::InputError&) {
        return 0;
    }
    std::uint64_t next = 0;
    for (const image::Extent& extent : map) {
        if (extent.start != next || extent.length == 0 || extent.end() < extent.start || extent.depth < 0)
            std::abort();
        next = extent.end();
    }
    return 0;
}
