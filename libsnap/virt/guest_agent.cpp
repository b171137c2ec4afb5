#include "virt/guest_agent.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "virt/libvirt_error.hpp"
#include "xml/document.hpp"

#include <future>
#include <thread>

namespace virtsnap::virt {

namespace {

constexpr const char* agent_channel_name = "org.qemu.guest_agent.0";

struct TimeAnswer {
    bool ok = false;
    std::string error;
};

} // namespace

AgentChannel find_agent_channel(const std::string& domain_xml, const std::string& domain_name) {
    xml::Document doc = xml::Document::parse(domain_xml, "XML of domain " + util::quoted(domain_name));
    AgentChannel channel;
    for (xmlNode* target : doc.select("/domain/devices/channel/target")) {
        if (xml::attribute_or(target, "type", "") == "virtio" &&
            xml::attribute_or(target, "name", "") == agent_channel_name) {
            channel.present = true;
            channel.state = xml::attribute_or(target, "state", "");
        }
    }
    return channel;
}

AgentStatus probe_guest_agent(const Domain& domain, std::chrono::milliseconds timeout) {
    const auto start = std::chrono::steady_clock::now();
    auto finish = [&start](bool reachable, std::string reason) {
        return AgentStatus{
            reachable, std::move(reason),
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
    };

    if (!domain.is_active())
        return finish(false, "domain " + util::quoted(domain.name()) + " is not running");
    AgentChannel channel = find_agent_channel(domain.xml(), domain.name());
    if (!channel.present)
        return finish(false, "domain " + util::quoted(domain.name()) +
                                 " has no guest agent channel (a virtio <channel> named " +
                                 agent_channel_name + ")");
    if (channel.state == "disconnected")
        return finish(false, "the guest agent of domain " + util::quoted(domain.name()) +
                                 " is not connected (is qemu-ga running in the guest?)");

    // libvirt bounds the agent's handshake itself but not every command, so
    // the call runs on its own thread with its own reference to the domain and
    // we stop waiting at the deadline. A thread left behind finishes when
    // libvirt returns; it touches nothing but its own shared state.
    auto promise = std::make_shared<std::promise<TimeAnswer>>();
    std::future<TimeAnswer> answer = promise->get_future();
    util::start_thread([promise, dom = share(domain.get())]() mutable {
        long long seconds = 0;
        unsigned int nanoseconds = 0;
        TimeAnswer result;
        result.ok = virDomainGetTime(dom.get(), &seconds, &nanoseconds, 0) == 0;
        if (!result.ok)
            result.error = last_error_message();
        promise->set_value(std::move(result));
    }).detach();

    if (answer.wait_for(timeout) != std::future_status::ready)
        return finish(false, "the guest agent of domain " + util::quoted(domain.name()) +
                                 " did not answer within " + std::to_string(timeout.count()) + " ms");
    TimeAnswer result = answer.get();
    if (!result.ok)
        return finish(false, "the guest agent of domain " + util::quoted(domain.name()) +
                                 " did not answer: " + result.error);
    return finish(true, "");
}

} // namespace virtsnap::virt
