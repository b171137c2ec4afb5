#pragma once
// The one progress line a terminal shows for all the steps under way at once
// (several disks copied in parallel with --jobs): each step's text, in the
// order the steps started, cut to the terminal's width so that redrawing it
// in place never leaves a wrapped remainder behind.

#include <cstddef>
#include <string>
#include <vector>

namespace virtsnap::util {

// "PROGRAM: TEXT1 | TEXT2", at most columns - 1 bytes (the last column would
// make some terminals wrap), never cut inside a UTF-8 character; when that
// is too short, each text keeps an equal share of the width.
std::string compose_status_line(const std::string& program, const std::vector<std::string>& texts,
                                std::size_t columns);

// The width of the terminal on stderr; 80 when it does not say.
std::size_t terminal_columns() noexcept;

} // namespace virtsnap::util
