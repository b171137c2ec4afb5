#pragma once
// Whole numbers in the JSON qemu-img prints about images a guest may have
// written. nlohmann's get<std::uint64_t>() converts any number it is given:
// a negative one wraps around, and one written with a fraction or exponent
// (1e300) is cast from a double, which is undefined behaviour when it does
// not fit. qemu-img prints byte counts and offsets as plain integers, so
// anything else is not its output.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace virtsnap::image {

// value as an unsigned 64-bit integer; InputError naming what and field
// when it is not a whole number from 0 to 2^64 - 1.
std::uint64_t whole_number(const nlohmann::json& value, const std::string& what, const char* field);

} // namespace virtsnap::image
