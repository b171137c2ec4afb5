#pragma once
// One domain's backup: lock, finish what an earlier run left, a new set
// directory, the online (snapshot) or offline path, the set completed, the
// overlays merged on every path, retention.

#include "job/backup_settings.hpp"
#include "util/log.hpp"
#include "virt/connection.hpp"

#include <string>

namespace virtsnap::job {

// Throws the error that ended the backup; the domain is then back on its
// original chains (or the error says to run --recover) and no incomplete
// set is left.
SetSummary backup_domain(const virt::Connection& conn, const std::string& name,
                         const BackupSettings& settings, const util::Log& log);

} // namespace virtsnap::job
