#pragma once
// What virtsnap-list prints: one row per backup set, as a table for people
// or as JSON for programs (a documented contract, virtsnap-list(1)). Names
// come from directories and manifests, input from outside: in the table a
// control character or a byte that is not UTF-8 is written as \xNN (a
// newline cannot fake a row, an escape code cannot reach the terminal); in
// JSON such a name keeps its text with U+FFFD for each bad byte, plus a
// KEY_hex member holding its bytes. Sizes that cannot add up (they would
// pass 2^64) mark the set damaged rather than wrap.

#include "store/backup_set.hpp"

#include <string>
#include <vector>

namespace virtsnap::job {

std::string render_set_table(const std::vector<store::BackupSet>& sets);
std::string render_set_json(const std::vector<store::BackupSet>& sets);

// The sets under dest (of one domain, when domain is not empty); InputError
// when there is no such directory.
std::vector<store::BackupSet> find_sets(const std::string& dest, const std::string& domain);

} // namespace virtsnap::job
