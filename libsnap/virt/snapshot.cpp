#include "virt/snapshot.hpp"

#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/phase_times.hpp"
#include "virt/guest_agent.hpp"
#include "virt/libvirt_error.hpp"

#include <future>
#include <thread>

namespace virtsnap::virt {

using util::quoted;
using Clock = std::chrono::steady_clock;

namespace {

// How long to wait for a freeze that overran freeze_timeout before giving up
// on thawing it ourselves (libvirt then still holds the agent).
constexpr auto late_freeze_grace = std::chrono::seconds(30);
// Between thaw attempts: a thaw racing a snapshot that still holds the
// domain waits for libvirt's job lock anyway.
constexpr auto thaw_retry_interval = std::chrono::seconds(1);

struct CallResult {
    bool ok = false;
    std::string error;
};

// Runs one libvirt call on its own thread with its own domain reference, so
// the caller can stop waiting for it.
template <typename Call> std::shared_future<CallResult> start_call(const Domain& domain, Call call) {
    auto promise = std::make_shared<std::promise<CallResult>>();
    std::shared_future<CallResult> future = promise->get_future().share();
    util::start_thread([promise, call, dom = share(domain.get())]() {
        CallResult result;
        result.ok = call(dom.get());
        if (!result.ok)
            result.error = last_error_message();
        promise->set_value(std::move(result));
    }).detach();
    return future;
}

std::int64_t ms_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// The snapshot call itself. The overlays exist already (made by
// create_overlay_files before the freeze), so libvirt only opens them: less
// time inside the freeze window.
bool snapshot_call(virDomainPtr dom, const std::string& snapshot_xml) {
    const unsigned int flags = VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC |
                               VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA | VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT;
    virDomainSnapshotPtr created = virDomainSnapshotCreateXML(dom, snapshot_xml.c_str(), flags);
    if (created)
        virDomainSnapshotFree(created);
    return created != nullptr;
}

void create_snapshot(const Domain& domain, const std::string& snapshot_xml) {
    if (!snapshot_call(domain.get(), snapshot_xml))
        throw_last_error("libvirt could not take the snapshot of domain " + quoted(domain.name()));
}

// A planned quiesce that did not happen: refused under --quiesce=require
// (no snapshot taken), else a crash-consistent snapshot.
SnapshotOutcome without_quiesce(const Domain& domain, const std::string& snapshot_xml,
                                const QuiescePlan& plan, SnapshotOutcome outcome, std::string reason) {
    outcome.not_quiesced_reason = std::move(reason);
    if (plan.required)
        throw util::RefusedError(outcome.not_quiesced_reason +
                                 "; --quiesce=require: no snapshot was taken (domain " +
                                 quoted(domain.name()) + " was not changed)");
    create_snapshot(domain, snapshot_xml);
    return outcome;
}

} // namespace

void thaw_guest(const Domain& domain, std::chrono::milliseconds bound, const util::Log& log) {
    const Clock::time_point deadline = Clock::now() + bound;
    std::string last_error;
    for (int attempt = 1;; ++attempt) {
        // Each call on its own thread: libvirt waits for a hung agent for
        // ever, and the bound must hold.
        std::shared_future<CallResult> call =
            start_call(domain, [](virDomainPtr dom) { return virDomainFSThaw(dom, nullptr, 0, 0) >= 0; });
        if (call.wait_until(deadline) != std::future_status::ready) {
            last_error = "the guest agent did not answer";
            break;
        }
        const CallResult& result = call.get();
        if (result.ok) {
            if (attempt > 1)
                log.warn("domain " + quoted(domain.name()) + " thawed at attempt " + std::to_string(attempt));
            return;
        }
        last_error = result.error;
        if (attempt == 1)
            log.warn("thawing the filesystems of domain " + quoted(domain.name()) + " failed: " + last_error +
                     "; retrying for up to " + std::to_string(util::to_ms(bound) / 1000) + " s");
        if (Clock::now() + thaw_retry_interval >= deadline)
            break;
        std::this_thread::sleep_for(thaw_retry_interval);
    }
    throw util::GuestFrozen("the guest agent of domain " + quoted(domain.name()) +
                            " did not confirm a thaw within " + std::to_string(util::to_ms(bound) / 1000) +
                            " s (" + last_error +
                            "); its filesystems may still be frozen, holding every write in the guest: check "
                            "with 'virsh domfsinfo " +
                            domain.name() + "' and thaw with 'virsh domfsthaw " + domain.name() + "'");
}

QuiesceMode parse_quiesce_mode(const std::string& text) {
    if (text == "auto")
        return QuiesceMode::automatic;
    if (text == "require")
        return QuiesceMode::require;
    if (text == "off")
        return QuiesceMode::off;
    throw util::UsageError("--quiesce must be auto, require or off, not " + quoted(text));
}

QuiescePlan plan_quiesce(const Domain& domain, QuiesceMode mode, std::chrono::milliseconds agent_timeout,
                         const util::Log& log) {
    if (mode == QuiesceMode::off)
        return {false, false, "--quiesce=off"};
    AgentStatus agent = probe_guest_agent(domain, agent_timeout);
    if (agent.reachable) {
        log.debug("guest agent answered in " + std::to_string(agent.elapsed.count()) + " ms");
        return {true, mode == QuiesceMode::require, ""};
    }
    if (mode == QuiesceMode::require)
        throw util::RefusedError(agent.reason +
                                 "; --quiesce=require refuses a crash-consistent snapshot (domain " +
                                 quoted(domain.name()) + " was not changed)");
    log.warn(agent.reason + "; taking a crash-consistent snapshot instead (quiesced=no)");
    return {false, false, agent.reason};
}

SnapshotOutcome take_snapshot(const Domain& domain, const std::string& snapshot_xml, const QuiescePlan& plan,
                              std::chrono::milliseconds freeze_timeout,
                              std::chrono::milliseconds thaw_timeout, const util::Log& log) {
    SnapshotOutcome outcome;
    if (!plan.quiesce) {
        util::PhaseTimer snapshotting("snapshot call");
        create_snapshot(domain, snapshot_xml);
        return outcome;
    }

    util::PhaseTimer freezing("freeze");
    const Clock::time_point frozen_at = Clock::now();
    const Clock::time_point deadline = frozen_at + freeze_timeout;
    std::shared_future<CallResult> freeze =
        start_call(domain, [](virDomainPtr dom) { return virDomainFSFreeze(dom, nullptr, 0, 0) >= 0; });
    if (freeze.wait_until(deadline) != std::future_status::ready) {
        // The freeze may still complete inside the guest: wait for libvirt to
        // return it, then thaw, and take no quiesced snapshot.
        log.warn("the guest agent of domain " + quoted(domain.name()) + " did not freeze within " +
                 std::to_string(freeze_timeout.count()) + " ms (--freeze-timeout)");
        if (freeze.wait_for(late_freeze_grace) != std::future_status::ready)
            throw util::Error(
                "the guest agent of domain " + quoted(domain.name()) + " has not finished freezing after " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::seconds>(freeze_timeout + late_freeze_grace)
                        .count()) +
                " s; no snapshot was taken; the guest may be frozen: thaw it with 'virsh domfsthaw " +
                domain.name() + "'");
        if (freeze.get().ok) {
            thaw_guest(domain, thaw_timeout, log);
            outcome.freeze_ms = ms_since(frozen_at);
        }
        return without_quiesce(domain, snapshot_xml, plan, outcome,
                               "the freeze took longer than --freeze-timeout");
    }
    CallResult frozen = freeze.get();
    freezing.stop();
    log.debug("fsfreeze returned after " + std::to_string(ms_since(frozen_at)) + " ms");
    if (!frozen.ok) {
        // A failed freeze may have frozen some filesystems: thaw is harmless.
        thaw_guest(domain, thaw_timeout, log);
        return without_quiesce(domain, snapshot_xml, plan, outcome,
                               "the guest agent could not freeze the filesystems: " + frozen.error);
    }

    // Frozen. The snapshot runs on its own thread so that the deadline can
    // thaw the guest even while libvirt is still busy with it.
    util::PhaseTimer snapshotting("snapshot call");
    std::shared_future<CallResult> snapshot =
        start_call(domain, [xml = snapshot_xml](virDomainPtr dom) { return snapshot_call(dom, xml); });
    bool in_time = snapshot.wait_until(deadline) == std::future_status::ready;
    snapshotting.stop();
    log.debug("snapshot returned after " + std::to_string(ms_since(frozen_at)) + " ms");
    // Retried until it works: a thaw that races a snapshot still running
    // waits for libvirt's lock on the domain, and a guest left frozen holds
    // every write it makes. When it cannot be confirmed, the snapshot (if
    // taken) is merged back by the caller and the error says what to run.
    try {
        util::PhaseTimer thawing("thaw");
        thaw_guest(domain, thaw_timeout, log);
    } catch (const util::GuestFrozen&) {
        snapshot.wait(); // never leave libvirt's call behind unawaited
        throw;
    }
    outcome.freeze_ms = ms_since(frozen_at);
    CallResult taken = snapshot.get(); // after the thaw: waits for libvirt
    if (!taken.ok)
        throw util::LibvirtError("libvirt could not take the snapshot of domain " + quoted(domain.name()) +
                                     ": " + taken.error,
                                 0, 0);
    if (in_time) {
        outcome.quiesced = true;
    } else {
        // The window is still what the guest lived through; it is recorded.
        outcome.not_quiesced_reason =
            "the snapshot took longer than --freeze-timeout and the guest was thawed first";
    }
    return outcome;
}

} // namespace virtsnap::virt
