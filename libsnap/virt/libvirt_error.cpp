#include "virt/libvirt_error.hpp"

#include "util/error.hpp"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <mutex>

namespace virtsnap::virt {

namespace {
void ignore_error(void*, virErrorPtr) {}
} // namespace

void silence_libvirt_errors() {
    static std::once_flag once;
    std::call_once(once, [] {
        virSetErrorFunc(nullptr, ignore_error);
        // Must run before threads use libvirt; virInitialize is idempotent.
        virInitialize();
    });
}

std::string last_error_message() {
    virErrorPtr error = virGetLastError();
    return error && error->message ? error->message : "";
}

void throw_last_error(const std::string& context) {
    virErrorPtr error = virGetLastError();
    int code = error ? error->code : VIR_ERR_INTERNAL_ERROR;
    int domain = error ? error->domain : VIR_FROM_NONE;
    std::string message = error && error->message ? error->message : "unknown libvirt error";
    throw util::LibvirtError(context + ": " + message, code, domain);
}

} // namespace virtsnap::virt
