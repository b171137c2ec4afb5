#include "virt/manifest_builder.hpp"

#include "util/error.hpp"
#include "util/path.hpp"
#include "virt/libvirt_error.hpp"
#include "xml/snapshot_xml.hpp"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>

namespace virtsnap::virt {

namespace {

std::string utc_now(const char* format) {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, format, &utc);
    return text;
}

// The directory an overlay goes to, resolved: an image named with "." or
// ".." (libvirt reports a relative backing name so) or through a link must
// not give its overlay a name the manifest and the state record refuse.
// A directory that does not exist is left as it is, for the preflight to
// report.
std::string resolved_overlay_dir(const xml::Disk& disk, const std::string& overlay_dir) {
    std::string dir = overlay_dir;
    if (dir.empty() && disk.type != xml::DiskType::block)
        dir = util::dirname_of(disk.source);
    if (dir.empty())
        return dir;
    char resolved[PATH_MAX];
    return ::realpath(dir.c_str(), resolved) ? std::string(resolved) : dir;
}

std::uint64_t capacity_of(const virt::Domain& domain, const xml::Disk& disk) {
    virDomainBlockInfo info{};
    if (virDomainGetBlockInfo(domain.get(), disk.target.c_str(), &info, 0) < 0)
        virt::throw_last_error("cannot read the size of disk " + util::quoted(disk.target) + " of domain " +
                               util::quoted(domain.name()));
    return info.capacity;
}

} // namespace

std::string new_snapshot_id() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    std::tm utc{};
    gmtime_r(&now.tv_sec, &utc);
    char time_part[32];
    std::strftime(time_part, sizeof time_part, "%Y%m%d-%H%M%S", &utc);
    std::random_device random;
    char id[64];
    std::snprintf(id, sizeof id, "%s-%03ld-%04x", time_part, now.tv_nsec / 1000000,
                  static_cast<unsigned>(random() & 0xffff));
    return id;
}

xml::Manifest build_manifest(const virt::Domain& domain, const std::vector<xml::Disk>& disks,
                             const std::string& snapshot_id, const std::string& overlay_dir,
                             const std::string& block_fallback_dir, bool offline) {
    xml::Manifest manifest;
    manifest.offline = offline;
    manifest.domain_name = domain.name();
    manifest.domain_uuid = domain.uuid();
    manifest.snapshot_id = snapshot_id;
    manifest.snapshot_time = utc_now("%Y-%m-%dT%H:%M:%SZ");
    for (const xml::Disk& disk : disks) {
        xml::ManifestDisk entry;
        entry.target = disk.target;
        entry.source_type = disk.type == xml::DiskType::block ? "block" : "file";
        entry.format = disk.format.empty() ? "raw" : disk.format;
        entry.frozen = disk.source;
        if (!offline)
            entry.overlay = xml::overlay_path_for(disk, snapshot_id, resolved_overlay_dir(disk, overlay_dir),
                                                  block_fallback_dir);
        entry.virtual_size = capacity_of(domain, disk);
        for (const xml::BackingImage& image : disk.backing)
            entry.chain.push_back({image.path, image.format});
        manifest.disks.push_back(std::move(entry));
    }
    return manifest;
}

} // namespace virtsnap::virt
