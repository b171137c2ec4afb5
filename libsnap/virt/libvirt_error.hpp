#pragma once
// libvirt prints its errors on stderr by default. virtsnap silences that once
// and turns the thread's last libvirt error into a LibvirtError.

#include <string>

namespace virtsnap::virt {

// Stops libvirt from printing errors itself; idempotent and thread-safe.
void silence_libvirt_errors();

// Throws LibvirtError "<context>: <libvirt's message>" from the calling
// thread's last libvirt error.
[[noreturn]] void throw_last_error(const std::string& context);

// The calling thread's last libvirt error message (empty when none).
std::string last_error_message();

} // namespace virtsnap::virt
