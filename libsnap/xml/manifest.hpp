#pragma once
// The manifest (virtsnap(7), MANIFEST): the XML document that flows from
// tool to tool. It names the domain, the snapshot and, per disk, the frozen image,
// the overlay and the chain the disk must come back to. A manifest is input
// from outside: parse() checks every field it will later act on and rejects
// anything malformed, truncated or out of shape with an InputError.

#include "xml/snapshot_disk.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace virtsnap::xml {

// One checksum per fixed-size chunk of a disk's content; chunks that hold
// only zeros are not listed.
struct ChunkChecksum {
    std::uint64_t offset = 0;
    std::string hash; // "xxh3-128:<32 hex digits>"
};

// One image file of a backup: the whole flattened disk, or one layer of a
// kept chain.
struct BackupFile {
    std::string name;             // a plain file name inside the backup directory
    std::string backing;          // the file name of the layer below, or empty
    std::uint64_t allocated = 0;  // bytes the file occupies on its filesystem
    std::uint64_t data_bytes = 0; // bytes of non-zero content it holds
    std::string checksum;         // of the whole content, "xxh3-128:<hex>"
    std::vector<ChunkChecksum> chunks;
    // An incremental set's layer: the id of the set whose file `backing` is
    // (the header then names "../SET_ID/NAME"); empty within one set.
    std::string backing_set;
};

// Qcow2 image options of the source, kept so a restore can recreate them.
struct Qcow2Options {
    std::uint64_t cluster_size = 0;
    std::string compat; // "1.1", "0.10"
    bool lazy_refcounts = false;
    bool extended_l2 = false;
};

// The block sums of a disk at a level set (image/block_sums.hpp): a file
// beside its image, TARGET.blocks.
struct BlockSumsFile {
    std::string name;
    std::uint64_t block_size = 0;
    std::string checksum; // of the whole file, "xxh3-128:<hex>"
};

// What virtsnap-copy made of a disk.
struct DiskBackup {
    std::string format; // "qcow2" or "raw"
    bool flattened = true;
    bool compressed = false;
    std::uint64_t chunk_size = 0;
    std::optional<Qcow2Options> source_options;
    std::vector<BackupFile> files; // the top first, then each layer below
    std::optional<BlockSumsFile> block_sums;
};

// One check virtsnap-verify made of a disk's backup.
struct Verification {
    std::string kind;   // "source", "checksums", "qemu-checksums", "image", "filesystems"
    std::string result; // "ok" or "mismatch"
    std::string detail; // one line for people
};

// A disk of the snapshot, with what the tools after virtsnap-create added.
struct ManifestDisk : SnapshotDisk {
    std::optional<DiskBackup> backup;        // once copied
    std::vector<Verification> verifications; // once verified
};

struct ManifestFailure {
    std::string tool;
    std::string message;
};

struct Manifest {
    std::string domain_name;
    std::string domain_uuid;
    std::string snapshot_id;
    std::string snapshot_time; // ISO 8601 UTC, "2026-11-22T03:15:00Z"
    bool quiesced = false;
    std::int64_t freeze_ms = -1; // freeze-to-thaw window; -1 when not quiesced
    // The domain was shut off: its images were copied as they were, without
    // a snapshot or overlays ("frozen" names the disk's own image).
    bool offline = false;
    // virtsnap-backup --level: "copy", "full", "inc" or "diff"; empty in
    // manifests of the other tools and of sets made before levels (a copy).
    std::string level;
    std::string parent; // inc, diff: the id of the set below it in its chain
    // Why the level is not the one asked for, or how a synthetic full was
    // made (virtsnap-backup --synthetic-full); empty for a set taken as asked.
    std::string level_reason;
    // An inc or diff taken by content: its layer holds the blocks whose
    // block sums differ from its parent's (the change record could not be
    // used), not the kept overlay's clusters.
    bool by_content = false;
    std::vector<ManifestDisk> disks;
    std::string backup_dir; // where virtsnap-copy wrote the backup files; empty before
    // Tools that failed on the way; a later commit still runs.
    std::vector<ManifestFailure> failures;

    bool failed() const noexcept { return !failures.empty(); }
    // An inc or a diff: each disk is one layer on its parent set's image.
    bool on_parent() const noexcept { return level == "inc" || level == "diff"; }
    const ManifestDisk* find_disk(const std::string& target) const;
};

// Serialises with libxml2 (escaping included), UTF-8, trailing newline.
std::string to_xml(const Manifest& manifest);

// Parses and validates: the fields the tools act on are checked in code
// (with messages naming them), the shape against the manifest's RELAX NG
// schema (schemas/manifest.rng). what names the source in errors
// ("manifest on standard input", a path).
Manifest parse_manifest(const std::string& text, const std::string& what);

// The schema's text, as installed.
const std::string& manifest_schema_text();

// Field checks shared with the tools.
bool is_valid_snapshot_id(const std::string& id);
bool is_valid_uuid(const std::string& uuid);
bool is_valid_checksum(const std::string& checksum);
// TARGET.blocks: the only name a disk's block sums file has.
std::string block_sums_file_name(const std::string& target);
// A name of a file inside a directory: no '/', not "." or "..".
bool is_plain_file_name(const std::string& name);

// The names of a disk's backup files, top first: TARGET.FORMAT, then for
// each of the layers - 1 layers below it TARGET.1.qcow2, TARGET.2.qcow2, ...
// (store/set_layout.hpp names every file of a set through this.)
std::vector<std::string> backup_file_names(const std::string& target, const std::string& format,
                                           std::size_t layers);

} // namespace virtsnap::xml
