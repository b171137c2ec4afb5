#pragma once
// virtsnap-backup --synthetic-full: forever-incremental retention. With
// --level inc and --keep N, a chain's full stays as long as any kept set
// hangs on it, so old points are kept for ever. Instead, once the chain's
// full is no restore point --keep keeps, the oldest kept restore point (an
// inc or a diff set) is replaced by a standalone full of the same point: same
// set id, time, domain, disks and definitions, level full, its images the
// chain flattened by the copy engine with checksums of their own. The sets
// above it name "../ID/TARGET.qcow2", now that full image of the same
// content, and stay valid; retention then removes the sets below it.
//
// Every step leaves each kept restore point restorable and verifiable:
//   1. the images are written into DOMAIN_DIR/.synthetic-ID
//      (store/set_layout.hpp) and fsynced, while every layer of the chain
//      is checked against its own set's checksums (a new full gets new
//      checksums: damage read now would be blessed);
//   2. each image is compared with the chain by qemu-img compare and
//      checked with qemu-img check; then the definitions, the manifest and,
//      last, the marker are written;
//   3. the work directory is swapped with the set (store/set_replacement.hpp:
//      one RENAME_EXCHANGE, or two renames the next run completes);
//   4. the old content is removed.
// A failure before 3 removes the work directory and leaves the set as it
// was; whatever a SIGKILL leaves, finish_synthetic_fulls (at the next backup
// of the domain) puts right. The caller holds the domain's lock, which the
// parameter of that type stands for.

#include "store/domain_lock.hpp"
#include "util/log.hpp"

#include <string>
#include <vector>

namespace virtsnap::job {

struct SyntheticFullSettings {
    bool compress = false; // compressed qcow2 clusters, as --compress writes them
    // false: the two-rename swap even where the filesystem can exchange
    // names (for the tests of what it leaves).
    bool exchange = true;
};

// Replaces the inc or diff set in set_dir with a standalone full of the
// same point, as above. Throws, with the set as it was: RefusedError (the set
// is neither, or its checksums are in chunks a full would not
// have), InputError (a set of its chain is damaged), VerificationMismatch
// (a layer's checksums, or the new images against the chain), SystemError,
// Interrupted. Returns false, with the set as it was, when a reader pinned
// the set (store/set_pin.hpp) before the swap: its files must not change
// under it; the next run makes the full.
bool make_synthetic_full(const store::DomainLock& lock, const std::string& set_dir,
                         const SyntheticFullSettings& settings, const util::Log& log);

// After a backup with --keep keep (just_made: the new set; pinned: as
// store::sets_to_remove): makes the set store::set_to_merge chooses a full,
// saying why when a set would need it but may not be. Returns that set's id,
// or empty. Errors as make_synthetic_full, their message naming the set left
// as it was and just_made, which is complete (exit status 3, 4, 130, else 1:
// never 5, since a set was made).
std::string merge_oldest_kept(const store::DomainLock& lock, const std::string& domain_dir, unsigned keep,
                              const std::string& just_made, const std::vector<std::string>& pinned,
                              const SyntheticFullSettings& settings, const util::Log& log);

// What a --synthetic-full run that died left in domain_dir, put right
// (store::finish_replacements), each step logged.
void finish_synthetic_fulls(const store::DomainLock& lock, const std::string& domain_dir,
                            const util::Log& log);

} // namespace virtsnap::job
