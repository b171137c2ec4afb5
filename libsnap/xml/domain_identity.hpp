#pragma once
// A restored domain defined beside the original must not share its
// identity: a new name, no UUID (libvirt makes a new one), no MAC addresses
// (libvirt makes new ones, so both can run on one network), its own
// console and log files (virtlogd lets one domain write a file), and its
// own UEFI variable store.

#include <string>

namespace virtsnap::xml {

// domain_xml under a new name: UUID, MAC addresses and NVRAM path removed,
// file-backed character devices and logs renamed "NAME-<file>" in the same
// directory. Throws InputError when it is not a domain definition.
std::string as_new_domain(const std::string& domain_xml, const std::string& name, const std::string& what);

// The <name> of a domain definition.
std::string domain_name_of(const std::string& domain_xml, const std::string& what);

} // namespace virtsnap::xml
