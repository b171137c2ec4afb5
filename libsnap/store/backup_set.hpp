#pragma once
// Backup sets on disk (store/set_layout.hpp): DEST/DOMAIN/SET_ID/ holds the
// manifest, the domain's definition at the snapshot (persistent and live),
// one image per disk (or per layer of a kept chain), and the completion
// marker, written last. A set without the marker is never offered for
// restore; the next backup of the domain removes it.
//
// Everything in a set is input from outside: its files are read without
// following links and without blocking, only when they are regular files,
// and never beyond a bound (a FIFO planted as manifest.xml must not hang a
// listing, a link to /dev/zero must not fill memory).

#include "store/set_layout.hpp"
#include "xml/manifest.hpp"

#include <optional>
#include <string>
#include <vector>

namespace virtsnap::store {

struct BackupSet {
    std::string domain; // the directory it sits in: the domain's name
    std::string id;     // its directory name: the snapshot id
    std::string path;
    bool complete = false;
    std::optional<xml::Manifest> manifest;
    std::string problem; // why a complete set's manifest could not be read
};

// The sets of one domain directory, oldest first (ids start with the UTC
// time). Entries whose names are not snapshot ids, and links, are ignored;
// a missing directory has no sets.
std::vector<BackupSet> list_domain_sets(const std::string& domain_dir);

// One set, for restoring or verifying: InputError when path is not a backup
// set or its manifest is damaged, RefusedError when the set is incomplete
// (never restored).
BackupSet read_set(const std::string& path);

// Every set under DEST, by domain name, then oldest first.
std::vector<BackupSet> list_sets(const std::string& dest);

// A definition saved in the set (set_domain_xml_file, ...), read as
// strictly as the manifest; nullopt when the set has none.
std::optional<std::string> read_set_definition(const BackupSet& set, const char* name);

// Writes the completion marker durably; the set is restorable from then on.
void mark_complete(const std::string& set_dir, const std::string& snapshot_id);

// Whether dir holds a completion marker (a regular file, not a link).
bool has_marker(const std::string& dir);

// The names in dir (not "." or ".."), sorted; nullopt when dir does not exist.
std::optional<std::vector<std::string>> directory_names(const std::string& dir);

// Removes a set: the files directly inside it, then the directory. Never
// follows a symbolic link; a directory holding anything but the files
// virtsnap writes into a set (a subdirectory, another name) is left whole
// (RefusedError).
void remove_set(const std::string& set_dir);

} // namespace virtsnap::store
