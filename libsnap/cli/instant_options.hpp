#pragma once
// Which options of virtsnap-restore go with --instant and --finish, decided
// in one place the tool calls and the unit tests reach.

#include <string>

namespace virtsnap::cli {

// What the command line gave, as far as these rules need it.
struct InstantChoice {
    bool instant = false;
    bool finish = false;   // --finish NAME
    bool set = false;      // a SET (or DOMAIN_DIR) argument
    bool output = false;   // -o
    bool define = false;   // --define
    std::string format;    // --format
    bool disks = false;    // -d
    bool file = false;     // --file or --to
    bool force = false;    // --force
    bool until = false;    // --until
    std::string bandwidth; // --bandwidth, empty when not given
};

// UsageError for a combination that does not fit; returns the bandwidth
// in MiB/s (0: not given, no limit).
unsigned long check_instant_choice(const InstantChoice& choice);

} // namespace virtsnap::cli
