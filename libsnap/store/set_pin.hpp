#pragma once
// A backup set in use by a reader (virtsnap-mount, an instant restore) is
// pinned: a shared flock on the set's directory. It writes nothing into the
// set (no byte, no timestamp) and ends with the process that holds it, so a
// reader killed with SIGKILL never leaves a set pinned for ever.
// remove_set takes the exclusive lock before it removes a byte and refuses
// a pinned set, so retention, a synthetic full's cleanup and a concurrent
// backup leave it alone and say why; a reader that comes while a set is
// being removed is refused in turn.

#include "util/unique_fd.hpp"
#include "xml/manifest.hpp"

#include <string>
#include <vector>

namespace virtsnap::store {

class SetPin {
  public:
    SetPin() = default;
    // Pins each directory (a restore point and the sets below it), through
    // a link if one is named. Throws RefusedError when one is being
    // removed or replaced (or was, while it was being opened), SystemError
    // when one cannot be opened.
    explicit SetPin(const std::vector<std::string>& set_dirs);

    // Pins one more directory, as the constructor does.
    void add(const std::string& set_dir);

  private:
    std::vector<util::UniqueFd> dirs_;
};

// A restore point (the set in set_dir, whose manifest is manifest) pinned
// with every set below it (store::parent_sets): the set first, then each
// parent as its chain names it. RefusedError when the set there is no
// longer the one manifest describes (replaced by a synthetic full since it
// was read); otherwise throws what parent_sets throws for a broken chain,
// and what SetPin throws.
SetPin pin_chain(const std::string& set_dir, const xml::Manifest& manifest);

// Held by remove_set while it removes a set, and by a synthetic full while
// it swaps a set out: the exclusive lock (never through a link), or a
// RefusedError naming the set as in use.
util::UniqueFd lock_set_exclusively(const std::string& set_dir);

// True when a reader pins the set now (a probe: the answer may change).
bool set_pinned(const std::string& set_dir);

// Why a pinned set stays, for the messages of everything that removes sets.
std::string pinned_reason(const std::string& set_dir);

} // namespace virtsnap::store
