#include "virt/handles.hpp"

#include "virt/libvirt_error.hpp"

#include <cstdlib>

namespace virtsnap::virt {

void MallocDeleter::operator()(void* memory) const noexcept {
    std::free(memory);
}

DomainHandle share(virDomainPtr dom) {
    if (virDomainRef(dom) < 0)
        throw_last_error("cannot take a reference to a domain");
    return DomainHandle(dom);
}

} // namespace virtsnap::virt
