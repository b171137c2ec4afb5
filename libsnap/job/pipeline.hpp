#pragma once
// The steps of the pipeline, each what one tool does with the manifest it
// reads:
//   virtsnap-create DOMAIN | virtsnap-copy -o DIR | virtsnap-verify | virtsnap-commit
// and the recovery of a run that died (virtsnap-commit --recover).

#include "copy/disk_copy.hpp"
#include "util/log.hpp"
#include "verify/backup_verification.hpp"
#include "virt/domain_snapshot.hpp"
#include "virt/merge_overlays.hpp"
#include "xml/manifest.hpp"

#include <string>

namespace virtsnap::job {

// virtsnap-create: the snapshot of running domain name (its lock held
// meanwhile). RefusedError when it is shut off.
xml::Manifest create_snapshot(const std::string& connect_uri, const std::string& name,
                              const virt::SnapshotSettings& settings, const util::Log& log);

// virtsnap-copy: the disks into dir (made when missing), then the manifest
// as dir/manifest.xml; every file takes its name only once all are
// complete (replacing existing ones only with settings.force). The
// manifest is extended with the backups.
void copy_manifest(xml::Manifest& manifest, const std::string& dir, const copy::CopySettings& settings,
                   const util::Log& log);

// virtsnap-verify DIR: the manifest a copy or backup left in dir.
xml::Manifest read_backup_manifest(const std::string& dir);

struct CommitSettings {
    std::string connect_uri;
    std::string state_dir;
    virt::MergeSettings merge;
};

// virtsnap-commit: merges the snapshot the manifest describes — only when
// it matches the domain's state record, which is what is merged.
void commit_manifest(const xml::Manifest& manifest, const CommitSettings& settings, const util::Log& log);

// virtsnap-commit --recover: finishes whatever a run left on domain name;
// false when nothing was pending.
bool recover_domain(const std::string& name, const CommitSettings& settings, const util::Log& log);

// virtsnap-commit --end-tracking: finishes any unfinished run, then merges
// the overlays the domain's change record keeps back into the disks' own
// images (active commit and pivot; offline for a shut-off domain) and
// removes the record. The domain ends on exactly its original chains; the
// next inc is a full. False when the domain had no change record.
bool end_tracking(const std::string& name, const CommitSettings& settings, const util::Log& log);

} // namespace virtsnap::job
