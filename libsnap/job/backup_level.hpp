#pragma once
// Which level a set is really taken at. A full or copy is what was asked;
// an incremental needs a change record that still holds — the domain on the
// record's overlays, every disk of the record in this backup and none more,
// the same destination, and the record's set complete and readable with
// every disk's image at the same size. Otherwise, when the previous set of
// the chain is complete, sound and holds every disk of the run at the same
// size with block sums that verify, the set is an incremental by content
// on it: the whole disk read, the blocks whose sums differ written. Else a
// full. Either way the reason goes to stderr and into the manifest: a cron
// job that only ever asks for inc works from its first run, and never on a
// guessed chain.

#include "image/block_sums.hpp"
#include "job/backup_settings.hpp"
#include "store/set_chain.hpp"
#include "store/tracking_record.hpp"
#include "util/log.hpp"
#include "virt/connection.hpp"
#include "xml/manifest.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace virtsnap::job {

// The domain's change record as the domain really is: kept when the domain
// runs on every overlay it names; dropped (removed, `lost` says why) when on
// none of them — someone merged them or ended the tracking by hand.
// RefusedError when on some but not all: that needs a person
// ('virtsnap-commit --end-tracking').
struct TrackingState {
    std::optional<store::TrackingRecord> record;
    std::string lost;
};
TrackingState current_tracking(const virt::Domain& domain, const std::string& state_dir,
                               const util::Log& log);

// The longest chain of incrementals an inc builds on; the next is a full.
// No longer than a restore reads (store::max_chain_sets below a set).
constexpr std::size_t max_chain_incrementals = store::max_chain_sets;

// Block sums by disk target.
using BlockSumsByDisk = std::shared_ptr<const std::map<std::string, image::BlockSums>>;

struct LevelChoice {
    Level level = Level::copy;
    std::string parent; // inc: the set it continues
    std::string reason; // why the level is not the one asked for; empty when it is
    // An inc (or diff) by content: the change record could not be used, so
    // the layer holds the blocks whose sums differ from the parent's
    // (parent_sums, read and checked while choosing).
    bool by_content = false;
    BlockSumsByDisk parent_sums;
};

// manifest: the snapshot's (frozen images, sizes); domain_dir: DEST/DOMAIN.
// full_every: BackupSettings::full_every.
LevelChoice choose_level(Level requested, const TrackingState& tracking, const std::string& domain_dir,
                         const xml::Manifest& manifest, unsigned full_every = 0);

// The id of the full set the chain ending at set_id starts with.
std::string chain_full(const std::string& domain_dir, const std::string& set_id);

// How many inc and diff sets the chain ending at set_id holds above its
// full (following each manifest's parent within domain_dir).
std::size_t incrementals_since_full(const std::string& domain_dir, const std::string& set_id);

// A full or inc replaces the change record with one of its own snapshot:
// every disk the record names must be in it (RefusedError otherwise).
void check_record_covered(const TrackingState& tracking, const xml::Manifest& manifest);
// The same before the snapshot, from the disks asked for (--disk: include,
// empty for every disk; --exclude-disk: exclude), so nothing is frozen for
// a run that would be refused.
void check_record_covered(const TrackingState& tracking, const std::vector<std::string>& include,
                          const std::vector<std::string>& exclude);

// The block sums the set at set_dir keeps of the disks of manifest (the
// run's), for an inc or diff on it to update; a disk whose sums are missing
// or do not verify is left out (said at debug level): its layer gets none.
BlockSumsByDisk parent_block_sums(const std::string& set_dir, const xml::Manifest& manifest,
                                  const util::Log& log);

// Records the choice in the manifest (level, parent, reason, by content).
void record_level(xml::Manifest& manifest, const LevelChoice& choice);

} // namespace virtsnap::job
