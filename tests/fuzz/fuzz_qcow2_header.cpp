// image::parse_qcow2_header: read from a backup set's image before any QEMU
// tool opens it, so every offset and length in it is hostile. The input is
// the start of a file; libFuzzer's buffer is exactly its size, so any read
// past it is an AddressSanitizer report. Rejecting is an InputError; what it
// accepts keeps the limits the header's users rely on.

#include "image/qcow2_header.hpp"
#include "util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace image = virtsnap::image;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const image::Qcow2Header header = image::parse_qcow2_header(data, size, "fuzz input");
        if ((header.version != 2 && header.version != 3) || header.cluster_bits < 9 ||
            header.cluster_bits > 21 || header.backing_file.size() > 1023 ||
            (!header.data_file.empty() && !header.external_data_file))
            std::abort();
    } catch (const virtsnap::util::InputError&) {}
    return 0;
}
