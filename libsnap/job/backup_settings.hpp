#pragma once
// What a virtsnap-backup run is asked to do, and what it reports per set.

#include "copy/disk_copy.hpp"
#include "job/hooks.hpp"
#include "virt/domain_snapshot.hpp"
#include "virt/merge_overlays.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace virtsnap::job {

// What each copy is verified against before the set is complete.
enum class Verification {
    source,         // qemu-img compare with its frozen image: reads both again
    qemu_checksums, // hashed where QEMU maps its content, against the checksums taken while copying
};

// virtsnap-backup --level.
enum class Level {
    copy, // a standalone set; the domain ends on its own chain
    full, // a standalone set; its overlays stay as the change record
    inc,  // what changed since the previous set of the chain, when its record holds; else a full
    diff, // what changed since the chain's full, when the record holds; else a full
};

const char* to_string(Level level);

struct BackupSettings {
    std::string dest; // absolute: sets go to DEST/DOMAIN/SET_ID
    virt::SnapshotSettings snapshot;
    copy::CopySettings copy; // format, compress, jobs
    bool verify = true;      // verify each copy (and qemu-img check a qcow2) before the set is complete
    // The default reads each copy once (verify/qemu_checksum_check.hpp).
    Verification verification = Verification::qemu_checksums;
    unsigned keep = 0; // 0: keep every set
    // With keep: once the chain's full is no restore point kept, make the
    // oldest kept incremental set a full of its own (job/synthetic_full.hpp).
    bool synthetic_full = false;
    Level level = Level::copy;
    // With level inc: take a full instead once the chain holds this many
    // incrementals since its full (0: never).
    unsigned full_every = 0;
    virt::MergeSettings merge;
    HookSettings hook;
};

struct SetSummary {
    std::string domain;
    std::string set_dir;
    std::size_t disks = 0;
    std::uint64_t bytes_read = 0;    // content read from the images (holes not read)
    std::uint64_t bytes_written = 0; // what the set's image files occupy
    std::chrono::milliseconds duration{0};
    bool offline = false;
    bool quiesced = false;
    std::int64_t freeze_ms = -1;
    bool verified = false;
    Verification verification = Verification::qemu_checksums;
    std::size_t removed_sets = 0; // by --keep
    std::string synthetic_full;   // the set --synthetic-full made a full of its own, or empty
    Level level = Level::copy;    // the level the set was taken at
    std::string level_reason;     // why it is not the one asked for
};

// One line for people: "vm1: 2 disk(s), 1.5 GiB read, ...".
std::string describe(const SetSummary& summary);

} // namespace virtsnap::job
