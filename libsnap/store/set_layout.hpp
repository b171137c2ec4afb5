#pragma once
// The names of the files virtsnap writes into a backup set, a copy's
// directory or a restore's directory, decided here and nowhere else.
//
//   DEST/DOMAIN/SET_ID/      a backup set (SET_ID is the snapshot id)
//     manifest.xml           what was backed up, with checksums
//     domain.xml             the persistent definition at the snapshot
//     domain-live.xml        the live definition of a running domain
//     TARGET.FORMAT          one image per disk (vda.qcow2, vdb.raw)
//     TARGET.N.qcow2         the layers below it of a kept chain
//     TARGET.blocks          a level set's block sums of the disk (image/block_sums.hpp)
//     complete               written last: the set is restorable
//   DEST/DOMAIN/.synthetic-SET_ID/      a synthetic full being made of SET_ID
//   DEST/DOMAIN/.synthetic-SET_ID.old/  the set it replaces, mid-swap
// A file being written is NAME.partial until it is complete.

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::store {

constexpr const char* set_manifest_file = "manifest.xml";
constexpr const char* set_domain_xml_file = "domain.xml";           // persistent definition
constexpr const char* set_live_domain_xml_file = "domain-live.xml"; // of a running domain
constexpr const char* set_marker_file = "complete";

// NAME.partial
std::string partial_name(const std::string& name);

// The image files of one disk, top first: TARGET.FORMAT, then for each of
// the layers - 1 layers below it TARGET.1.qcow2, TARGET.2.qcow2, ...
std::vector<std::string> disk_file_names(const std::string& target, const std::string& format,
                                         std::size_t layers);

// TARGET.blocks
std::string block_sums_file_name(const std::string& target);

// Whether name is the name of a set directory, shaped as the snapshot id
// virtsnap-backup makes: "20261122-031500-042-3fa9" (the UTC time, then four
// letters or digits). Nothing else under DEST/DOMAIN is ever taken for a set.
bool is_set_id(const std::string& name);

// The UTC time a set id starts with (to the second); none when name is not
// a set id or its time is not a real one (month 13, second 61, ...).
std::optional<std::time_t> set_id_time(const std::string& name);

// Whether name is one virtsnap writes into a set (or its .partial).
bool is_set_file_name(const std::string& name);

// DEST/DOMAIN: where a domain's sets live.
std::string domain_sets_dir(const std::string& dest, const std::string& domain_name);

// Beside the sets, the synthetic full of set SET_ID (virtsnap-backup
// --synthetic-full) is built in DEST/DOMAIN/.synthetic-SET_ID, then swapped
// with the set (store/set_replacement.hpp); where the filesystem cannot
// exchange two names, the old set waits as .synthetic-SET_ID.old until the
// swap is done. Neither name is a set id: listings never take them for sets.
std::string synthetic_work_name(const std::string& set_id);
std::string synthetic_aside_name(const std::string& set_id);

// What a name of either kind is: the set id it is for, and which of the
// two; nullopt for any other name (a set id after the prefix, nothing else).
struct SyntheticName {
    std::string set_id;
    bool aside = false;
};
std::optional<SyntheticName> parse_synthetic_name(const std::string& name);

} // namespace virtsnap::store
