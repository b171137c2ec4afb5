#pragma once
// Brings a domain back from virtsnap overlays to exactly the chains recorded
// before the snapshot, and removes the overlays — the one procedure behind
// virtsnap-commit, its --recover, and every cleanup path of the other tools.
//
// Per disk it looks at where the domain really is, not where a record says it
// should be:
//   running, on the overlay      shallow active commit + pivot (adopting a
//                                commit job a killed run left behind)
//   shut off, on the overlay     offline `qemu-img commit` into the immediate
//                                backing image + a corrected definition
//   already on the frozen image  nothing to merge
//   anything else                refused: someone else changed the disk
// then checks the live chain, checks (and if needed fixes) the persistent
// definition, and only then deletes the overlay — and only a file that is
// recognisably this snapshot's overlay of that image.

#include "util/log.hpp"
#include "virt/connection.hpp"
#include "xml/manifest.hpp"

#include <chrono>

namespace virtsnap::virt {

struct MergeSettings {
    std::chrono::milliseconds timeout{0}; // per disk, for the active commit; 0: none
    unsigned long bandwidth_mib = 0;      // per disk, MiB/s; 0: unlimited
};

// Merges every disk of record. Disks are independent: one that fails does
// not stop the others; the error names every disk that failed. Idempotent.
void merge_overlays(const Connection& conn, const Domain& domain, const xml::Manifest& record,
                    const MergeSettings& settings, const util::Log& log);

// True when any disk of the domain (live definition when running, else the
// persistent one) is on a file named like a virtsnap overlay.
bool on_virtsnap_overlay(const Domain& domain, std::string* which);

} // namespace virtsnap::virt
