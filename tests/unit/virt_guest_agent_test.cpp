#include "util/error.hpp"
#include "virt/guest_agent.hpp"

#include <doctest/doctest.h>

using virtsnap::virt::find_agent_channel;

TEST_CASE("the agent channel and libvirt's view of its state are read from the live XML") {
    auto channel = find_agent_channel(R"(<domain><devices>
        <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0' state='disconnected'/></channel>
        </devices></domain>)",
                                      "vm");
    CHECK(channel.present);
    CHECK(channel.state == "disconnected");
}

TEST_CASE("other virtio channels are not the agent") {
    auto channel = find_agent_channel(R"(<domain><devices>
        <channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>
        <channel type='pty'><target type='guestfwd' name='org.qemu.guest_agent.0'/></channel>
        </devices></domain>)",
                                      "vm");
    CHECK_FALSE(channel.present);
}

TEST_CASE("an unreadable domain XML is an input error") {
    CHECK_THROWS_AS(find_agent_channel("<domain>", "vm"), virtsnap::util::InputError);
}
