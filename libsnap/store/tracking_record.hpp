#pragma once
// The change record of a domain backed up at level full or inc:
// STATE_DIR/UUID.tracking. After such a backup the domain keeps running on
// the snapshot's overlay, which from then on holds exactly the clusters the
// guest writes; the record says which overlay that is per disk, which image
// it was taken from (the disk's own image, its chain below), and which set
// of which domain directory it continues. The next incremental copies that
// overlay's clusters into a layer backed by that set's image. Written
// durably after the set it names is complete; removed by
// 'virtsnap-commit --end-tracking' or when a run finds it no longer true.

#include "store/state_record.hpp"
#include "xml/snapshot_disk.hpp"

#include <optional>
#include <string>
#include <vector>

namespace virtsnap::store {

struct TrackingRecord {
    std::string domain_name;
    std::string domain_uuid;
    std::string domain_dir; // DEST/DOMAIN: where the chain's sets are
    std::string set_id;     // the newest set of the chain
    // The snapshot the overlays were made by (their names carry it): the set
    // that started them, older than set_id after an offline incremental.
    std::string overlay_id;
    // Per disk: frozen = the disk's own image (what --end-tracking brings it
    // back to), overlay = the overlay it runs on, chain = below its image.
    std::vector<xml::SnapshotDisk> disks;
    // Per disk, what the files were when the record was written (see
    // file_stamp): the overlay by identity, the disk's own image also by
    // size and modification time, which only virtsnap's merge changes
    // while the domain is tracked. A record whose files are not those is
    // not trusted for an incremental.
    struct Stamps {
        std::string target;
        std::string overlay;
        std::string image;
    };
    std::vector<Stamps> stamps;

    const xml::SnapshotDisk* find(const std::string& target) const;
    const Stamps* stamps_of(const std::string& target) const;
};

// "DEV:INO" of a file, and for a regular file with content too,
// ":SIZE:MTIME_NS"; empty when it cannot be read.
std::string file_stamp(const std::string& path, bool content);

// Fills record.stamps from the files as they are now.
void stamp_files(TrackingRecord& record);

// The record a run leaves once its set is complete and its overlays stay
// (state record at stage keeping): its snapshot's overlays, each disk's own
// image (below a kept overlay of snapshot record.below, the image under it),
// and the set it wrote.
TrackingRecord tracking_after(const StateRecord& record);

std::string tracking_path(const std::string& state_dir, const std::string& domain_uuid);

std::string to_xml(const TrackingRecord& record);
// Checks every field (InputError naming what).
TrackingRecord parse_tracking_record(const std::string& text, const std::string& what);

// Writes the record durably (mode 0600, directory 0700).
void save_tracking(const std::string& state_dir, const TrackingRecord& record);

// The domain's record, or nullopt. A record that does not parse, or is not
// the domain's, is an InputError naming the file.
std::optional<TrackingRecord> load_tracking(const std::string& state_dir, const std::string& domain_uuid);

void remove_tracking(const std::string& state_dir, const std::string& domain_uuid);

} // namespace virtsnap::store
