#pragma once
// Move-only owners of libvirt handles. Tool code never calls
// virConnectClose/virDomainFree itself.

#include <libvirt/libvirt.h>

#include <memory>

namespace virtsnap::virt {

struct ConnectDeleter {
    void operator()(virConnectPtr conn) const noexcept { virConnectClose(conn); }
};
struct DomainDeleter {
    void operator()(virDomainPtr dom) const noexcept { virDomainFree(dom); }
};
// Strings libvirt hands over (virDomainGetXMLDesc, ...) are freed with free().
struct MallocDeleter {
    void operator()(void* memory) const noexcept;
};

using ConnectHandle = std::unique_ptr<virConnect, ConnectDeleter>;
using DomainHandle = std::unique_ptr<virDomain, DomainDeleter>;
using CString = std::unique_ptr<char, MallocDeleter>;

// A second owner of the same domain object (virDomainRef), for handing a
// domain to another thread that may outlive the caller's handle.
DomainHandle share(virDomainPtr dom);

} // namespace virtsnap::virt
