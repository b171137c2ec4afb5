#pragma once
// A backup set's disks rebuilt as standalone images in a directory (an
// incremental set's through every set below it: store/set_chain.hpp), each
// checked against the checksums the backup recorded before it takes its
// name, with the set's definition pointed at them — and, with a name, that
// definition defined as a new domain, restricted to what the restore made
// (xml/restricted_definition.hpp).

#include "copy/output_files.hpp"
#include "store/backup_set.hpp"
#include "store/set_chain.hpp"
#include "util/log.hpp"
#include "virt/connection.hpp"

#include <optional>
#include <string>
#include <vector>

namespace virtsnap::job {

struct RestoreSettings {
    std::string output_dir;
    std::string format;             // "qcow2", "raw", or empty: each disk's own
    std::vector<std::string> disks; // empty: every disk of the set
    std::string define_name;        // empty: no domain is defined
    bool force = false;             // replace files, a shut-off domain's images included
    std::string connect_uri;
};

// The disks of set that settings choose; InputError for a target the set
// does not have.
std::vector<const xml::ManifestDisk*> chosen_disks(const store::BackupSet& set,
                                                   const std::vector<std::string>& targets);

// Refuses (RefusedError) a --define name that a domain already has.
void refuse_defined_name(const virt::Connection& conn, const std::string& name);

struct RestoredDisk {
    std::string target;
    std::string path;   // the image the domain will run on
    std::string format; // "qcow2" or "raw"
};

// The definition saved with the set (persistent, else live; the live one
// when only it holds every restored disk) pointed at
// images; with define_name, given a new identity (xml/domain_identity.hpp)
// and restricted to what the restore made (xml/restricted_definition.hpp),
// each element left out logged; console files go into dir. nullopt when
// the set holds no definition. conn, when there is one, says which boot
// files domains on this host already use.
std::optional<std::string> restored_definition(const store::BackupSet& set,
                                               const std::vector<RestoredDisk>& images,
                                               const std::string& define_name, const virt::Connection* conn,
                                               const std::string& dir, const util::Log& log);

// Rebuilds one disk as a standalone image of format into outputs
// (unpublished), from its chain (store::check_set_images, which checked
// every image): a flattened backup checked against its checksums as it is
// written; a kept chain, and an incremental set's layer with every set
// below it, checked layer by layer, each against its own set's manifest,
// before a byte is read (VerificationMismatch, naming the set).
void rebuild_disk(const store::DiskChain& chain, const std::string& format, copy::OutputFiles& outputs,
                  const util::Log& log);

// Restores; returns the paths written (the images, then domain.xml), which
// all exist only once every disk is rebuilt and checked. Refuses (before
// anything is written) an existing file without --force, an image of a
// running domain always, a set file as an output, and --define with a
// subset of the disks or a name in use.
std::vector<std::string> restore_disks(const store::BackupSet& set, const RestoreSettings& settings,
                                       const util::Log& log);

} // namespace virtsnap::job
