#include "virt/event_loop.hpp"

#include "util/interrupt.hpp"

#include <libvirt/libvirt.h>

#include <mutex>
#include <thread>

namespace virtsnap::virt {

bool start_event_loop() {
    static std::once_flag once;
    static bool started = false;
    std::call_once(once, [] {
        if (virEventRegisterDefaultImpl() < 0)
            return;
        // The loop lives as long as the process; it only dispatches callbacks
        // that the objects registering them deregister before they go away.
        util::start_thread([] {
            for (;;)
                virEventRunDefaultImpl();
        }).detach();
        started = true;
    });
    return started;
}

} // namespace virtsnap::virt
