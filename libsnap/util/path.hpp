#pragma once
// Path pieces as strings (no filesystem access).

#include <string>

namespace virtsnap::util {

// "/a/b/c.qcow2" -> "c.qcow2"; a name without '/' is itself.
std::string basename_of(const std::string& path);
// "/a/b/c.qcow2" -> "/a/b"; "/c" -> "/"; "c" -> ".".
std::string dirname_of(const std::string& path);

} // namespace virtsnap::util
