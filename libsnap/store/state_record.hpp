#pragma once
// The state record (the journal) of a virtsnap run, one per domain:
// STATE_DIR/UUID.state. It is the manifest of the snapshot — domain UUID,
// snapshot id, each disk's target, original top image, its full expected
// chain and its overlay — plus the stage the run reached. It is written and
// fsynced before the domain is touched and updated after each step, so a run
// killed at any instant leaves what `virtsnap-commit --recover` needs.

#include "xml/manifest.hpp"

#include <optional>
#include <string>

namespace virtsnap::store {

enum class Stage {
    prepared,    // written before the snapshot; the domain may or may not be on overlays
    snapshotted, // the domain is on the overlays; the manifest went out
    committing,  // virtsnap-commit is merging the overlays back
};

struct StateRecord {
    Stage stage = Stage::prepared;
    xml::Manifest manifest;
};

const char* to_string(Stage stage);

// The default state directory (SPEC "Failure safety").
constexpr const char* default_state_dir = "/var/lib/virtsnap";

std::string state_path(const std::string& state_dir, const std::string& domain_uuid);

// Writes the record durably (mode 0600, directory 0700).
void save_state(const std::string& state_dir, const StateRecord& record);

// The domain's record, or nullopt. A record that does not parse is an
// InputError naming the file: it is never guessed at.
std::optional<StateRecord> load_state(const std::string& state_dir, const std::string& domain_uuid);

void remove_state(const std::string& state_dir, const std::string& domain_uuid);

} // namespace virtsnap::store
