#pragma once
// The manifest (SPEC "The manifest"): the XML document that flows from tool
// to tool. It names the domain, the snapshot and, per disk, the frozen image,
// the overlay and the chain the disk must come back to. A manifest is input
// from outside: parse() checks every field it will later act on and rejects
// anything malformed, truncated or out of shape with an InputError.

#include <cstdint>
#include <string>
#include <vector>

namespace virtsnap::xml {

struct ChainImage {
    std::string path;
    std::string format;
};

struct ManifestDisk {
    std::string target;      // "vda"
    std::string source_type; // "file" or "block"
    std::string format;      // format of the frozen image (the original top)
    std::string frozen;      // the original top image, read-only while frozen
    std::string overlay;     // the qcow2 overlay the guest writes to meanwhile
    std::uint64_t virtual_size = 0;
    // The chain below the frozen image, immediate backing image first; commit
    // restores exactly frozen <- chain.
    std::vector<ChainImage> chain;
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
    std::vector<ManifestDisk> disks;
    // Tools that failed on the way; a later commit still runs.
    std::vector<ManifestFailure> failures;

    bool failed() const noexcept { return !failures.empty(); }
    const ManifestDisk* find_disk(const std::string& target) const;
};

// Serialises with libxml2 (escaping included), UTF-8, trailing newline.
std::string to_xml(const Manifest& manifest);

// Parses and validates; what names the source in errors ("manifest on
// standard input", a path).
Manifest parse_manifest(const std::string& text, const std::string& what);

// Field checks shared with the tools.
bool is_valid_snapshot_id(const std::string& id);
bool is_valid_target(const std::string& target);
bool is_valid_uuid(const std::string& uuid);

} // namespace virtsnap::xml
