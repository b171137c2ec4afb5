#pragma once
// virtsnap-restore DOMAIN_DIR --until SET_ID: which set a domain's directory
// of sets (DEST/DOMAIN, as virtsnap-backup writes it) names as a restore
// point. The set is found as store::parent_sets finds a parent: a
// directory directly inside DOMAIN_DIR under its set id, never through a
// symbolic link; what it names is then read and restored exactly as the set
// given directly.

#include "util/log.hpp"

#include <string>

namespace virtsnap::job {

// What --until takes besides a set id: the newest restore point.
constexpr const char* latest_restore_point = "latest";

// The path of the set until names in domain_dir: realpath(domain_dir)/SET_ID
// (domain_dir itself may be reached through a link, as a set given directly
// may). until is a set id, or "latest": the newest set virtsnap-list shows
// complete whose checks all passed (VERIFIED ok or none); each newer set
// passed over is named in a warning.
//
// UsageError: until is neither (a path, "..", control characters, ...), or
// domain_dir is a backup set itself (it holds a manifest or a completion
// marker). InputError: domain_dir is not a directory; it holds nothing by
// that id, or a symbolic link or something else than a directory there;
// for "latest", no set that qualifies.
std::string restore_point(const std::string& domain_dir, const std::string& until, const util::Log& log);

} // namespace virtsnap::job
