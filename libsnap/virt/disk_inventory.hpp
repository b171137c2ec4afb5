#pragma once
// The disks of a live domain with complete backing chains: libvirt's
// <backingStore> where it reports one, qemu-img where it does not.

#include "virt/connection.hpp"
#include "xml/domain_disks.hpp"

#include <vector>

namespace virtsnap::virt {

// Reads the domain's current XML (live when running) and completes each
// unknown chain of a file or block disk with qemu-img.
std::vector<xml::Disk> read_domain_disks(const Domain& domain);

// Fills disk.backing from qemu-img when libvirt left it unknown.
void complete_chain(xml::Disk& disk);

} // namespace virtsnap::virt
