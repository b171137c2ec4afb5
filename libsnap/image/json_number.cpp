#include "image/json_number.hpp"

#include "util/error.hpp"

#include <nlohmann/json.hpp>

namespace virtsnap::image {

std::uint64_t whole_number(const nlohmann::json& value, const std::string& what, const char* field) {
    // A parsed non-negative integer is always stored unsigned, a negative
    // one signed, anything with a fraction or exponent as a double.
    if (value.is_number_unsigned())
        return value.get<std::uint64_t>();
    throw util::InputError(what + ": " + field + " " + value.dump() + " is not a whole number of 0 or more");
}

} // namespace virtsnap::image
