#pragma once
// The state record (the journal) of a virtsnap run, one per domain:
// STATE_DIR/UUID.state. It holds what 'virtsnap-commit --recover' needs to
// finish a run that died at any instant — the snapshot, each disk's overlay
// and the chain it must come back to, the stage the run reached, and the
// backup set it was writing — and nothing else. Written and fsynced before
// the domain is touched and after each step; a document of its own
// (<virtsnap-state>), written once and read once.

#include "xml/manifest.hpp"
#include "xml/snapshot_disk.hpp"

#include <optional>
#include <string>
#include <vector>

namespace virtsnap::store {

enum class Stage {
    prepared,    // written before the snapshot; the domain may or may not be on overlays
    snapshotted, // the domain is on the overlays; the manifest went out
    committing,  // the overlays are being merged back
    // The set is complete and the change record (store/tracking_record)
    // names this snapshot's overlays: they stay. What is left is merging
    // the frozen image, when it is the overlay an earlier full or inc kept
    // (snapshot `below`), into the image below it, and deleting it.
    keeping,
};

struct StateRecord {
    Stage stage = Stage::prepared;
    std::string domain_name;
    std::string domain_uuid;
    std::string snapshot_id;
    // A freeze was planned: a run that died before the record moved past
    // 'prepared' may have left the guest's filesystems frozen.
    bool quiesce = false;
    std::vector<xml::SnapshotDisk> disks;
    // The backup set the run writes (virtsnap-backup); empty otherwise.
    std::string set_dir;
    // The snapshot id of the kept overlay each disk's frozen image is (the
    // domain was tracked); empty when the frozen images are the disks' own.
    std::string below;
};

const char* to_string(Stage stage);

// The record of the snapshot a manifest describes: its domain, id and disks.
StateRecord record_of(const xml::Manifest& manifest, Stage stage);

// The default state directory.
constexpr const char* default_state_dir = "/var/lib/virtsnap";

std::string state_path(const std::string& state_dir, const std::string& domain_uuid);

// The record as its XML document, and back. parse_state_record checks every
// field (InputError naming what); it is never guessed at.
std::string to_xml(const StateRecord& record);
StateRecord parse_state_record(const std::string& text, const std::string& what);

// Writes the record durably (mode 0600, directory 0700).
void save_state(const std::string& state_dir, const StateRecord& record);

// The domain's record, or nullopt. A record that does not parse, or is not
// the domain's, is an InputError naming the file.
std::optional<StateRecord> load_state(const std::string& state_dir, const std::string& domain_uuid);

void remove_state(const std::string& state_dir, const std::string& domain_uuid);

} // namespace virtsnap::store
