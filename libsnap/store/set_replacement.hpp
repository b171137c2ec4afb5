#pragma once
// Replacing a complete backup set with another made beside it, so that a
// SIGKILL or a crash at any instant leaves the set whole, old or new.
// virtsnap-backup --synthetic-full builds the new content of set ID in
// DOMAIN_DIR/.synthetic-ID (store/set_layout.hpp), complete with its marker
// and synced, then swaps the two directories:
//
// - renameat2(RENAME_EXCHANGE): one atomic step. ID holds the old content
//   or the new, never neither; the work directory holds the other, and is
//   removed afterwards (or by the next run).
// - where the filesystem cannot exchange names (EINVAL: NFS, most FUSE
//   filesystems), two renames: ID to .synthetic-ID.old, then .synthetic-ID
//   to ID. Killed between them, ID is missing (the sets above it cannot be
//   read, and listings show them damaged) until finish_replacements, at the
//   next backup of the domain, completes the swap.
//
// Both run under the domain's lock (store/domain_lock.hpp), so no other
// virtsnap run changes the directory meanwhile. Each rename is made durable
// (the domain directory synced) before the next step.

#include <string>
#include <vector>

namespace virtsnap::store {

// Swaps the complete set in DOMAIN_DIR/.synthetic-ID in for set ID; returns
// the directory that now holds the old set's content, to be removed.
// exchange false takes the two renames even where the filesystem could
// exchange the names (for the tests of what they leave). Throws
// SystemError; the set is put back when the second rename fails, else the
// message says that the next backup puts it right.
std::string swap_in_replacement(const std::string& domain_dir, const std::string& id, bool exchange = true);

// What a replacement killed midway left in domain_dir, put right: a swap
// caught between its two renames is completed (when the work directory
// holds a complete full of the same set id) or undone (the old set put
// back), then every work directory and set moved aside is removed
// (store::remove_set). Returns what it did and what it had to leave as it
// is (a name that is not a directory, a directory holding files virtsnap
// never writes), one line each, for the log. Throws SystemError when a
// rename fails.
struct ReplacementRepair {
    std::vector<std::string> done;
    std::vector<std::string> left;
};
ReplacementRepair finish_replacements(const std::string& domain_dir);

} // namespace virtsnap::store
