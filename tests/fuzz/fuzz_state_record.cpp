// store::parse_state_record: the journal virtsnap-commit --recover acts on
// after a crash; a damaged or planted record must be refused (InputError),
// never crash or be half read. What it accepts must read back the same once
// written out, as save_state and load_state do.

#include "store/state_record.hpp"
#include "util/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace store = virtsnap::store;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    store::StateRecord record;
    try {
        record = store::parse_state_record(text, "fuzz input");
    } catch (const virtsnap::util::InputError&) {
        return 0;
    }
    const std::string written = store::to_xml(record);
    if (store::to_xml(store::parse_state_record(written, "fuzz input written out")) != written)
        std::abort();
    return 0;
}
