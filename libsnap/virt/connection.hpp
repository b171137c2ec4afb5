#pragma once
// A libvirt connection and the domains looked up through it.

#include "virt/handles.hpp"

#include <string>
#include <vector>

namespace virtsnap::virt {

class Domain;

class Connection {
  public:
    // uri empty: libvirt's default (LIBVIRT_DEFAULT_URI, then its own rules).
    static Connection open(const std::string& uri);

    // Looks a domain up by name, then by UUID. Throws LibvirtError naming the
    // domain and the connection when there is none.
    Domain lookup(const std::string& name_or_uuid) const;

    // Defines a persistent domain from its XML (not started).
    Domain define(const std::string& domain_xml) const;

    // The names of every domain, running or not, sorted.
    std::vector<std::string> domain_names() const;

    // The URI libvirt actually connected to.
    std::string uri() const;
    virConnectPtr get() const noexcept { return conn_.get(); }
    // Whether libvirt events reach this connection (see event_loop.hpp).
    bool has_events() const noexcept { return events_; }

  private:
    Connection(ConnectHandle conn, bool events) : conn_(std::move(conn)), events_(events) {}
    ConnectHandle conn_;
    bool events_;
};

class Domain {
  public:
    explicit Domain(DomainHandle dom);

    const std::string& name() const noexcept { return name_; }
    const std::string& uuid() const noexcept { return uuid_; }
    bool is_active() const;
    bool is_persistent() const;
    // Starts the defined domain (virDomainCreate); LibvirtError naming it.
    void start() const;

    // The live definition (of a running domain) or the persistent one.
    std::string xml() const;
    // The persistent definition, whatever the domain's state.
    std::string inactive_xml() const;
    // The persistent definition with secrets kept, for redefining it.
    std::string inactive_xml_secure() const;

    virDomainPtr get() const noexcept { return dom_.get(); }

  private:
    DomainHandle dom_;
    std::string name_;
    std::string uuid_;
};

} // namespace virtsnap::virt
