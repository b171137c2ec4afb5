#pragma once
// What virtsnap-list prints: one row per backup set, as a table for people
// or as JSON for programs (a documented contract, virtsnap-list(1)). Names
// come from directories and manifests, input from outside: in the table a
// control character or a byte that is not UTF-8 is written as \xNN (a
// newline cannot fake a row, an escape code cannot reach the terminal); in
// JSON such a name keeps its text with U+FFFD for each bad byte, plus a
// KEY_hex member holding its bytes. Sizes that cannot add up (they would
// pass 2^64) mark the set damaged rather than wrap. An incremental set is
// complete only when its chain holds: every set below it there, complete
// and sound as a restore needs it (store::ChainCheck, no image opened);
// else its state is broken-chain, with the reason.

#include "store/backup_set.hpp"
#include "store/set_chain.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::job {

// What a set's manifest says, reduced to the columns of the listing.
struct SetRow {
    // state: complete, incomplete, damaged or broken-chain
    std::string domain, id, time, state, verified;
    std::string type = "full"; // "inc" for an incremental set: it holds only what changed
    // virtsnap-backup --level: "copy", "full" or "inc" ("copy" for a set
    // made before levels); an incremental set's parent set id; why the
    // level is not the one asked for (empty when it is).
    std::string level, parent, level_reason;
    std::vector<std::string> disks;
    std::uint64_t allocated = 0, data = 0;
    std::optional<bool> quiesced;
    std::int64_t freeze_ms = -1;
    bool offline = false;
    std::string path, problem;
};

// Whether the row says what the set's manifest holds (time, level, disks,
// ...): a complete set, and one whose manifest is sound but whose chain is
// broken.
bool has_manifest(const SetRow& row);

// chains: shared by the rows of one listing, so that each set below is read
// once.
SetRow set_row(const store::BackupSet& set, store::ChainCheck& chains);
// A row per set.
std::vector<SetRow> set_rows(const std::vector<store::BackupSet>& sets);

// Sets object[key] to a string from outside: as it is when it is UTF-8;
// else with U+FFFD for each bad byte, and its bytes in hex in KEY_hex.
void put_name(nlohmann::json& object, const std::string& key, const std::string& value);

std::string render_set_table(const std::vector<store::BackupSet>& sets);
// Rows of cells as aligned columns, two spaces apart; the cells are printed
// as they are (escape them first).
std::string render_columns(const std::vector<std::vector<std::string>>& table);
std::string render_set_json(const std::vector<store::BackupSet>& sets);

// The sets under dest (of one domain, when domain is not empty); InputError
// when there is no such directory.
std::vector<store::BackupSet> find_sets(const std::string& dest, const std::string& domain);

} // namespace virtsnap::job
