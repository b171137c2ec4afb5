// xml::parse_manifest: every tool reads the manifest the tool before it
// wrote, or one from a backup set, and trusts nothing in it. Rejecting is
// fine (InputError); any other exception, a crash or a sanitizer report is a
// bug. What it accepts must survive the trip every pipeline step makes:
// written out and read back, it is the same manifest.

#include "util/error.hpp"
#include "xml/manifest.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace xml = virtsnap::xml;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    xml::Manifest manifest;
    try {
        manifest = xml::parse_manifest(text, "fuzz input");
    } catch (const virtsnap::util::InputError&) {
        return 0;
    }
    const std::string written = xml::to_xml(manifest);
    if (xml::to_xml(xml::parse_manifest(written, "fuzz input written out")) != written)
        std::abort();
    return 0;
}
