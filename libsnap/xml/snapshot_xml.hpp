#pragma once
// The <domainsnapshot> document for an external, disk-only snapshot in which
// every overlay is named explicitly — libvirt refuses to invent a name for a
// block device, and explicit names let --recover recognise our overlays —
// and every disk not chosen is listed with snapshot='no'.

#include "xml/domain_disks.hpp"

#include <map>
#include <string>
#include <vector>

namespace virtsnap::xml {

// Where the overlay of disk goes for snapshot_id: overlay_dir when given,
// else next to the image; a block device's directory (/dev/...) cannot hold
// files, so its overlay goes to block_fallback_dir. The name keeps the
// image's stem, contains "virtsnap", the id and the target, and ends in
// .qcow2 (AppArmor's virt-aa-helper denies names without an image suffix).
std::string overlay_path_for(const Disk& disk, const std::string& snapshot_id, const std::string& overlay_dir,
                             const std::string& block_fallback_dir);

// True when path is a virtsnap overlay name, as overlay_path_for makes them.
bool looks_like_overlay(const std::string& path);

// Whether path is the overlay overlay_path_for names for disk target in
// snapshot snapshot_id.
bool is_overlay_of(const std::string& path, const std::string& snapshot_id, const std::string& target);

// overlays maps each chosen target to its overlay path; all other disks of
// the domain are excluded from the snapshot.
std::string snapshot_xml(const std::string& snapshot_id, const std::vector<Disk>& disks,
                         const std::map<std::string, std::string>& overlays);

} // namespace virtsnap::xml
