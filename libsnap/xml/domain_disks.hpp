#pragma once
// The disks of a domain as virtsnap sees them, parsed from libvirt's domain
// XML: what each disk is, where its data lives, its backing chain, and whether
// virtsnap snapshots it (virtsnap-create(1), DESCRIPTION), with the reason when it does not.

#include "xml/document.hpp"

#include <string>
#include <vector>

namespace virtsnap::xml {

enum class DiskDevice { disk, cdrom, floppy, lun, other };
enum class DiskType { file, block, network, volume, other };

// Where a disk's backing chain came from: libvirt's <backingStore> elements
// (live XML of a running domain), qemu-img (when libvirt did not say), or
// nowhere yet.
enum class ChainOrigin { unknown, libvirt, qemu_img };

enum class Eligibility {
    eligible, // snapshotted and backed up
    skipped,  // left alone by design (cdrom, read-only, shareable, no medium)
    refused,  // holds data virtsnap cannot snapshot: an error unless excluded
};

// One image of a backing chain.
struct BackingImage {
    DiskType type = DiskType::file;
    std::string format; // "qcow2", "raw", ...; empty when unknown
    std::string path;   // file or device path; for network images the name
};

struct Disk {
    std::string target; // "vda"
    DiskDevice device = DiskDevice::disk;
    std::string device_name; // as written in the XML, for messages
    DiskType type = DiskType::file;
    std::string type_name;
    std::string format;           // driver type
    std::string source;           // file or device path; empty when there is none
    std::string network_protocol; // type network: "rbd", "nbd", ...
    std::string network_name;     // type network: pool/image, export, ...
    std::string pool, volume;     // type volume
    bool readonly = false;
    bool shareable = false;

    ChainOrigin chain_origin = ChainOrigin::unknown;
    std::vector<BackingImage> backing; // immediate backing image first

    Eligibility eligibility = Eligibility::eligible;
    std::string reason; // why skipped or refused; empty when eligible
};

// Parses every <disk> of /domain/devices. Throws InputError when the document
// is not a domain or a disk has no target.
std::vector<Disk> parse_domain_disks(const Document& domain);

// Decides eligibility (disks of type file or block that are neither
// read-only nor shareable; CD-ROMs and floppies are skipped, network disks
// refused) and fills eligibility/reason.
void classify(Disk& disk);

const char* to_string(DiskDevice device);
const char* to_string(DiskType type);
const char* to_string(ChainOrigin origin);
const char* to_string(Eligibility eligibility);

// A stable, human-readable rendering of the model: the golden-test format and
// what the test helper prints. One block per disk, one "key: value" a line.
std::string render(const std::vector<Disk>& disks);

} // namespace virtsnap::xml
