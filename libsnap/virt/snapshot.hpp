#pragma once
// The external, disk-only, atomic snapshot with its quiesce (virtsnap-create(1)).
// virtsnap freezes and thaws the guest's filesystems
// itself (virDomainFSFreeze/FSThaw, libvirt 1.2.5) rather than passing
// libvirt's QUIESCE flag, so that it can measure the freeze window, bound it,
// and thaw whatever happens. NO_METADATA keeps libvirt's snapshot list clean.

#include "util/log.hpp"
#include "virt/connection.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace virtsnap::virt {

enum class QuiesceMode { automatic, require, off };

// Parses "auto", "require", "off"; throws UsageError otherwise.
QuiesceMode parse_quiesce_mode(const std::string& text);

// Decided before anything changes: whether to quiesce at all.
struct QuiescePlan {
    bool quiesce = false;
    bool required = false; // --quiesce=require: no crash-consistent fallback
    std::string reason;    // why not, when not
};

// Asks the guest agent (bounded by agent_timeout). With require and no
// answer: RefusedError, the domain untouched. With auto and no answer: a
// warning and a plan without quiesce.
QuiescePlan plan_quiesce(const Domain& domain, QuiesceMode mode, std::chrono::milliseconds agent_timeout,
                         const util::Log& log);

struct SnapshotOutcome {
    bool quiesced = false;
    std::int64_t freeze_ms = -1;     // freeze call to thaw return; -1 without quiesce
    std::string not_quiesced_reason; // when a planned quiesce did not happen
};

// Freezes (if planned), takes the snapshot described by snapshot_xml, thaws.
// freeze_timeout bounds the freeze: a freeze that has not completed by then
// is thawed as soon as libvirt lets go of it and the snapshot is taken
// crash-consistent; a snapshot still running at the deadline is raced by a
// thaw and counts as not quiesced. The guest is thawed on every path.
// With plan.required, a freeze that fails or overruns ends in RefusedError
// with no snapshot taken. Throws LibvirtError when the snapshot itself fails
// (nothing was changed: the snapshot is atomic).
// thaw_timeout bounds the thaw's retries (thaw_guest). Throws GuestFrozen
// when no thaw was confirmed; a snapshot it took then stands, for the
// caller to merge back.
SnapshotOutcome take_snapshot(const Domain& domain, const std::string& snapshot_xml, const QuiescePlan& plan,
                              std::chrono::milliseconds freeze_timeout,
                              std::chrono::milliseconds thaw_timeout, const util::Log& log);

// Thaws the guest's filesystems, retrying every second until libvirt says
// it worked, for at most bound (each call on a thread of its own: a hung
// agent cannot hold the caller past the bound). Harmless on a guest that is
// not frozen. Throws GuestFrozen naming the domain and 'virsh domfsthaw'.
void thaw_guest(const Domain& domain, std::chrono::milliseconds bound, const util::Log& log);

} // namespace virtsnap::virt
