#pragma once
// Backup sets on disk (SPEC "Backup sets"): DEST/DOMAIN/SET_ID/ holds the
// manifest, the domain's definition at the snapshot (persistent and live),
// one image per disk (or per layer of a kept chain), and the completion
// marker, written last. A set without the marker is never offered for
// restore; the next backup of the domain removes it.

#include "xml/manifest.hpp"

#include <optional>
#include <string>
#include <vector>

namespace virtsnap::store {

constexpr const char* set_manifest_file = "manifest.xml";
constexpr const char* set_domain_xml_file = "domain.xml";           // persistent definition
constexpr const char* set_live_domain_xml_file = "domain-live.xml"; // of a running domain
constexpr const char* set_marker_file = "complete";

struct BackupSet {
    std::string domain; // the directory it sits in: the domain's name
    std::string id;     // its directory name: the snapshot id
    std::string path;
    bool complete = false;
    std::optional<xml::Manifest> manifest;
    std::string problem; // why a complete set's manifest could not be read
};

// DEST/DOMAIN
std::string domain_sets_dir(const std::string& dest, const std::string& domain_name);

// The sets of one domain directory, oldest first (ids start with the UTC
// time). Entries whose names are not snapshot ids are ignored; a missing
// directory has no sets.
std::vector<BackupSet> list_domain_sets(const std::string& domain_dir);

// One set, for restoring: InputError when path is not a backup set or its
// manifest is damaged, RefusedError when the set is incomplete (never
// restored).
BackupSet read_set(const std::string& path);

// Every set under DEST, by domain name, then oldest first.
std::vector<BackupSet> list_sets(const std::string& dest);

// Writes the completion marker durably; the set is restorable from then on.
void mark_complete(const std::string& set_dir, const std::string& snapshot_id);

// The sets --keep N removes, oldest first: complete sets beyond the newest
// keep complete ones (never the only complete one: keep is at least 1), and
// incomplete sets older than the newest complete one (left by runs that
// died). Sets another kept set depends on would be kept, but every set
// virtsnap writes today is a full backup that depends on none.
std::vector<const BackupSet*> sets_to_remove(const std::vector<BackupSet>& sets, unsigned keep);

// Removes a set: the files directly inside it, then the directory. Never
// follows a symbolic link; anything else found (a subdirectory) is left and
// reported in the error.
void remove_set(const std::string& set_dir);

} // namespace virtsnap::store
