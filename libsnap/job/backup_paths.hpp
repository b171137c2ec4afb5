#pragma once
// The two ways a set is filled: from a snapshot of a running domain, whose
// overlays are merged back on every path, or from the images of a shut-off
// domain as they are, watched for a start meanwhile.

#include "job/backup_level.hpp"
#include "job/backup_settings.hpp"
#include "job/set_directory.hpp"
#include "util/log.hpp"
#include "virt/connection.hpp"
#include "xml/manifest.hpp"

#include <cstddef>
#include <functional>
#include <string>

namespace virtsnap::job {

xml::Manifest backup_running(const virt::Connection& conn, const virt::Domain& domain,
                             const BackupSettings& settings, const TrackingState& tracking,
                             const std::string& id, SetDirectory& set, const util::Log& log);

xml::Manifest backup_shut_off(const virt::Connection& conn, const virt::Domain& domain,
                              const BackupSettings& settings, const TrackingState& tracking,
                              const std::string& id, SetDirectory& set, const util::Log& log);

// The level the set is taken at (job/backup_level.hpp), recorded in the
// manifest and, when it is not the one asked for, said why; the copy
// settings for it.
LevelChoice settle_level(const BackupSettings& settings, const TrackingState& tracking,
                         const SetDirectory& set, xml::Manifest& manifest, copy::CopySettings& copy,
                         const util::Log& log);

// The variables every hook call of a domain's backup gets (job/hooks.hpp).
HookEnvironment hook_environment(const BackupSettings& settings, const std::string& domain,
                                 const std::string& set_dir);

// The definitions as they are now (before a snapshot changes the live one).
Definitions read_definitions(const virt::Domain& domain);

// Copies the disks into the set and, unless settings.verify is off,
// verifies each while the next is being copied; each disk's files are
// published as soon as its copy is done. done, when set, is called (from
// another thread) with each disk whose frozen image nothing reads any more:
// copied, and verified when its verification compares with that image.
void copy_and_verify(xml::Manifest& manifest, copy::CopySettings copy_settings,
                     const BackupSettings& settings, const SetDirectory& set, const util::Log& log,
                     const std::function<void(std::size_t)>& done = {});

} // namespace virtsnap::job
