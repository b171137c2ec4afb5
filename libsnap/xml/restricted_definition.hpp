#pragma once
// What 'virtsnap-restore --define' defines: the definition saved in a set,
// restricted to what the restore made. A set is input from outside, and a
// definition can make libvirt run host programs (<emulator>, an interface
// script, <qemu:commandline>), hand the guest host devices and directories
// (<hostdev>, <filesystem>, a character device on /dev), or write files
// anywhere (a console log). Only what is known to be harmless is kept:
// the restored disks on the restored images, devices the guest emulates,
// and console files moved into the restore's own directory. Everything
// left out is listed, so the user can add back by hand what they trust.
//
// Boot files (<kernel>, <initrd>, <dtb>, <loader>, the NVRAM template libvirt
// copies into the variable store) are host files the guest reads: kept only
// when a domain defined on this host already uses them.

#include <map>
#include <set>
#include <string>
#include <vector>

namespace virtsnap::xml {

struct RestoredImage {
    std::string path;   // the image the restore wrote
    std::string format; // "qcow2" or "raw"
};

struct DefinitionLimits {
    std::map<std::string, RestoredImage> disks; // by target: every disk the new domain has
    std::string files_dir;                      // where its console and log files go
    std::set<std::string> trusted_boot_files;   // boot files domains on this host use
};

struct RestrictedDefinition {
    std::string xml;
    std::vector<std::string> left_out; // "<hostdev> (a host device)", one per element
};

// domain_xml (with a new identity already: xml/domain_identity.hpp)
// restricted to limits. Throws InputError when it is not a domain
// definition, or lacks a disk the restore made.
RestrictedDefinition restrict_definition(const std::string& domain_xml, const DefinitionLimits& limits,
                                         const std::string& what);

// The boot files a domain definition names (kernel, initrd, dtb, loader,
// NVRAM template).
std::vector<std::string> boot_files_of(const std::string& domain_xml, const std::string& what);

} // namespace virtsnap::xml
