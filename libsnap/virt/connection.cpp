#include "virt/connection.hpp"

#include "util/error.hpp"
#include "virt/event_loop.hpp"
#include "virt/libvirt_error.hpp"

#include <libvirt/virterror.h>

#include <algorithm>
#include <cstdlib>

namespace virtsnap::virt {

using util::quoted;

Connection Connection::open(const std::string& uri) {
    silence_libvirt_errors();
    const bool events = start_event_loop();
    virConnectPtr conn = virConnectOpen(uri.empty() ? nullptr : uri.c_str());
    if (!conn)
        throw_last_error("cannot connect to libvirt" + (uri.empty() ? std::string() : " at " + quoted(uri)) +
                         " (is libvirtd running, and may this user use it?)");
    // With an event loop, keepalive messages notice a libvirtd that died
    // instead of waiting on it for ever.
    if (events)
        virConnectSetKeepAlive(conn, 5, 3);
    return Connection(ConnectHandle(conn), events);
}

std::string Connection::uri() const {
    CString uri(virConnectGetURI(conn_.get()));
    if (!uri)
        throw_last_error("cannot read the connection URI");
    return uri.get();
}

Domain Connection::lookup(const std::string& name_or_uuid) const {
    virDomainPtr dom = virDomainLookupByName(conn_.get(), name_or_uuid.c_str());
    if (!dom)
        dom = virDomainLookupByUUIDString(conn_.get(), name_or_uuid.c_str());
    if (!dom) {
        virErrorPtr error = virGetLastError();
        if (error && error->code != VIR_ERR_NO_DOMAIN && error->code != VIR_ERR_INVALID_ARG)
            throw_last_error("cannot look up domain " + quoted(name_or_uuid));
        throw util::LibvirtError("domain " + quoted(name_or_uuid) + " not found on " + uri() +
                                     " ('virsh list --all' lists the domains)",
                                 VIR_ERR_NO_DOMAIN, VIR_FROM_DOM);
    }
    return Domain(DomainHandle(dom));
}

Domain Connection::define(const std::string& domain_xml) const {
    virDomainPtr dom = virDomainDefineXML(conn_.get(), domain_xml.c_str());
    if (!dom)
        throw_last_error("cannot define the domain");
    return Domain(DomainHandle(dom));
}

std::vector<std::string> Connection::domain_names() const {
    virDomainPtr* domains = nullptr;
    int count = virConnectListAllDomains(conn_.get(), &domains, 0);
    if (count < 0)
        throw_last_error("cannot list the domains of " + uri());
    // Owned at once, so an exception below frees every one of them.
    std::vector<DomainHandle> owned;
    owned.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i)
        owned.emplace_back(domains[i]);
    std::free(domains);
    std::vector<std::string> names;
    for (const DomainHandle& dom : owned) {
        const char* name = virDomainGetName(dom.get());
        if (!name)
            throw_last_error("cannot read a domain's name");
        names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

Domain::Domain(DomainHandle dom) : dom_(std::move(dom)) {
    const char* name = virDomainGetName(dom_.get());
    if (!name)
        throw_last_error("cannot read a domain's name");
    name_ = name;
    char uuid[VIR_UUID_STRING_BUFLEN];
    if (virDomainGetUUIDString(dom_.get(), uuid) < 0)
        throw_last_error("cannot read the UUID of domain " + quoted(name_));
    uuid_ = uuid;
}

bool Domain::is_active() const {
    int active = virDomainIsActive(dom_.get());
    if (active < 0)
        throw_last_error("cannot tell whether domain " + quoted(name_) + " is running");
    return active == 1;
}

bool Domain::is_persistent() const {
    int persistent = virDomainIsPersistent(dom_.get());
    if (persistent < 0)
        throw_last_error("cannot tell whether domain " + quoted(name_) + " is persistent");
    return persistent == 1;
}

void Domain::start() const {
    if (virDomainCreate(dom_.get()) < 0)
        throw_last_error("cannot start domain " + quoted(name_));
}

std::string Domain::xml() const {
    CString xml(virDomainGetXMLDesc(dom_.get(), 0));
    if (!xml)
        throw_last_error("cannot read the XML of domain " + quoted(name_));
    return xml.get();
}

std::string Domain::inactive_xml() const {
    CString xml(virDomainGetXMLDesc(dom_.get(), VIR_DOMAIN_XML_INACTIVE));
    if (!xml)
        throw_last_error("cannot read the persistent XML of domain " + quoted(name_));
    return xml.get();
}

} // namespace virtsnap::virt

namespace virtsnap::virt {

std::string Domain::inactive_xml_secure() const {
    CString xml(virDomainGetXMLDesc(dom_.get(), VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE));
    if (!xml)
        throw_last_error("cannot read the persistent XML of domain " + quoted(name_));
    return xml.get();
}

} // namespace virtsnap::virt
