#pragma once
// Whether a domain's QEMU guest agent answers, through public libvirt API
// present since libvirt 1.2.5 (virDomainGetTime). That call asks the agent
// for the guest's clock: harmless, read-only, and — unlike
// virDomainQemuAgentCommand — it does not mark the domain as tainted.

#include "virt/connection.hpp"

#include <chrono>
#include <string>

namespace virtsnap::virt {

struct AgentStatus {
    bool reachable = false;
    // Why not, in words for the user; empty when reachable.
    std::string reason;
    // How long the answer took.
    std::chrono::milliseconds elapsed{0};
};

// Asks the agent and waits at most timeout for the answer. The domain is not
// changed in any case.
AgentStatus probe_guest_agent(const Domain& domain, std::chrono::milliseconds timeout);

// From a live domain XML: whether it has an agent channel, and libvirt's view
// of its connection ("connected", "disconnected", or "" when not reported).
struct AgentChannel {
    bool present = false;
    std::string state;
};
AgentChannel find_agent_channel(const std::string& domain_xml, const std::string& domain_name);

} // namespace virtsnap::virt
