#pragma once
// Who owns a file and its permission bits, recorded and put back. libvirt's
// DAC driver hands every image of a chain to the QEMU user when a domain
// starts on it; an instant restore runs a domain on a backup set's images
// for a while, and a set must come out of it as it went in.

#include <string>
#include <sys/types.h>
#include <vector>

namespace virtsnap::store {

struct FileOwner {
    std::string path; // absolute
    uid_t uid = 0;
    gid_t gid = 0;
    mode_t mode = 0; // the permission bits only (07777)
};

// The owner, group and mode of path, never through a link (SystemError
// naming the path; a link is ELOOP).
FileOwner file_owner(const std::string& path);

// Puts owner.path's owner, group and mode back as recorded, through a
// descriptor opened without following a link, so a link planted in its
// place is refused rather than followed. True when something changed.
bool restore_owner(const FileOwner& owner);

// restore_owner for each; returns the paths that were changed. A file
// that is gone is skipped (the caller's checks say why); other failures
// throw SystemError naming the file.
std::vector<std::string> restore_owners(const std::vector<FileOwner>& owners);

// QEMU runs as its own user and must reach a set's images through its
// directories (0700 as a backup makes them). grant_search adds search
// permission for others (never listing) to dir, reached without following
// a link, and returns whether it had to; revoke_search takes that
// permission away again. SystemError naming dir.
bool grant_search(const std::string& dir);
void revoke_search(const std::string& dir);

} // namespace virtsnap::store
