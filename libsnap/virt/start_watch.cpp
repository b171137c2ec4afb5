#include "virt/start_watch.hpp"

#include <libvirt/libvirt.h>

namespace virtsnap::virt {

namespace {

using Flag = std::shared_ptr<std::atomic<bool>>;

extern "C" void on_lifecycle(virConnectPtr, virDomainPtr, int event, int, void* opaque) {
    if (event == VIR_DOMAIN_EVENT_STARTED || event == VIR_DOMAIN_EVENT_RESUMED)
        (*static_cast<Flag*>(opaque))->store(true);
}

extern "C" void free_flag(void* opaque) {
    delete static_cast<Flag*>(opaque);
}

} // namespace

StartWatch::StartWatch(const Connection& conn, const Domain& domain)
    : conn_(conn.get()), domain_(domain), seen_(std::make_shared<std::atomic<bool>>(false)) {
    if (!conn.has_events())
        return;
    auto* opaque = new Flag(seen_);
    callback_id_ =
        virConnectDomainEventRegisterAny(conn_, domain.get(), VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), opaque, free_flag);
    if (callback_id_ < 0)
        delete opaque; // polling alone then
}

StartWatch::~StartWatch() {
    if (callback_id_ >= 0)
        virConnectDomainEventDeregisterAny(conn_, callback_id_);
}

bool StartWatch::started() const {
    return seen_->load() || domain_.is_active();
}

} // namespace virtsnap::virt
