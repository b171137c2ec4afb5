#pragma once
// One domain's backup: lock, finish what an earlier run left, a new set
// directory, the online (snapshot) or offline path, the set completed, the
// overlays merged on every path, retention.

#include "options.hpp"
#include "util/log.hpp"
#include "virt/connection.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace virtsnap::backup {

struct SetSummary {
    std::string domain;
    std::string set_dir;
    std::size_t disks = 0;
    std::uint64_t bytes_read = 0;    // content read from the images (holes not read)
    std::uint64_t bytes_written = 0; // what the set's image files occupy
    std::chrono::milliseconds duration{0};
    bool offline = false;
    bool quiesced = false;
    std::int64_t freeze_ms = -1;
    bool verified = false;
    std::size_t removed_sets = 0; // by --keep
};

// Throws the error that ended the backup; the domain is then back on its
// original chains (or the error says to run --recover) and no incomplete
// set is left.
SetSummary backup_domain(const virt::Connection& conn, const std::string& name, const Options& options,
                         const util::Log& log);

// One line for people: "vm1: 2 disk(s), 1.5 GiB read, ...".
std::string describe(const SetSummary& summary);

} // namespace virtsnap::backup
