#pragma once
// Puts a disk of a domain definition back on a given image: the edit behind
// fixing a persistent definition that still names an overlay (older
// libvirt left it so after a pivot: libvirt issue 240)
// and behind an offline commit. The disk's type, source and driver format
// come back exactly as recorded (a raw disk must not stay
// "qcow2"); any <backingStore> is dropped so libvirt reads the chain from
// the images again.

#include <string>

namespace virtsnap::xml {

// The source path a disk target names in a domain XML, or "" when the disk
// is absent or has no source.
std::string disk_source(const std::string& domain_xml, const std::string& target, const std::string& what);

// Whether the domain XML has a disk with that target.
bool has_disk(const std::string& domain_xml, const std::string& target, const std::string& what);

// domain_xml with disk target on path (source_type "file" or "block") in
// format. Throws InputError when the XML has no such disk.
std::string with_disk_source(const std::string& domain_xml, const std::string& target,
                             const std::string& source_type, const std::string& path,
                             const std::string& format, const std::string& what);

} // namespace virtsnap::xml
