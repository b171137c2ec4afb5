#include "virt/merge_below.hpp"

#include "image/qcow2_header.hpp"
#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/pause_point.hpp"
#include "util/phase_times.hpp"
#include "util/subprocess.hpp"
#include "virt/block_commit.hpp"
#include "virt/disk_inventory.hpp"
#include "virt/libvirt_error.hpp"
#include "xml/disk_source_edit.hpp"
#include "xml/snapshot_xml.hpp"

#include <libvirt/virterror.h>

#include <algorithm>
#include <map>
#include <sys/stat.h>
#include <thread>

namespace virtsnap::virt {

using util::quoted;

namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::map<std::string, xml::Disk> disks_by_target(const Domain& domain) {
    std::map<std::string, xml::Disk> disks;
    for (xml::Disk& disk : read_domain_disks(domain))
        disks[disk.target] = std::move(disk);
    return disks;
}

bool in_chain(const xml::Disk& disk, const std::string& path) {
    if (disk.source == path)
        return true;
    return std::any_of(disk.backing.begin(), disk.backing.end(),
                       [&](const xml::BackingImage& image) { return image.path == path; });
}

bool job_running(const Domain& domain, const std::string& target) {
    virDomainBlockJobInfo info{};
    const int found = virDomainGetBlockJobInfo(domain.get(), target.c_str(), &info, 0);
    if (found < 0)
        throw_last_error("cannot read the block job of disk " + quoted(target) + " of domain " +
                         quoted(domain.name()));
    return found == 1;
}

// Non-active commits of every disk, side by side; each ends when its job is
// gone. Returns the errors, one per disk that failed.
std::vector<std::string> commit_running(const Connection& conn, const Domain& domain,
                                        const std::vector<const xml::SnapshotDisk*>& disks,
                                        const MergeSettings& settings, const util::Log& log) {
    // Registered before any job starts, so that no job's end goes unseen.
    const BlockJobEvents events(conn, domain);
    std::vector<std::string> errors;
    std::vector<const xml::SnapshotDisk*> started;
    for (const xml::SnapshotDisk* disk : disks) {
        if (job_running(domain, disk->target)) {
            errors.push_back("disk " + quoted(disk->target) + " is busy with another block job");
            continue;
        }
        if (virDomainBlockCommit(domain.get(), disk->target.c_str(), disk->chain.front().path.c_str(),
                                 disk->frozen.c_str(), settings.bandwidth_mib, 0) < 0) {
            errors.push_back("cannot start the commit of " + quoted(disk->frozen) + " into " +
                             quoted(disk->chain.front().path) + " (disk " + quoted(disk->target) +
                             "): " + last_error_message());
            continue;
        }
        log.debug("merging the kept overlay " + quoted(disk->frozen) + " into " +
                  quoted(disk->chain.front().path));
        started.push_back(disk);
    }
    util::pause_point("merge-below-started");
    const auto start = std::chrono::steady_clock::now();
    while (!started.empty()) {
        const std::uint64_t seen = events.generation();
        for (auto it = started.begin(); it != started.end();) {
            if (!job_running(domain, (*it)->target)) {
                it = started.erase(it);
                continue;
            }
            if (settings.timeout.count() > 0 && std::chrono::steady_clock::now() - start > settings.timeout) {
                // The kept overlay stays in the chain above the image it was
                // being merged into: the guest sees the same data.
                virDomainBlockJobAbort(domain.get(), (*it)->target.c_str(), 0);
                errors.push_back("the commit of " + quoted((*it)->frozen) + " did not end within " +
                                 std::to_string(settings.timeout.count() / 1000) + " s and was cancelled");
                it = started.erase(it);
                continue;
            }
            ++it;
        }
        // A job's end is an event: the loop looks again at once.
        if (!started.empty())
            events.wait_after(seen, commit_poll_interval);
    }
    return errors;
}

void commit_shut_off(const xml::SnapshotDisk& disk) {
    // qemu-img commit writes into whatever the kept overlay names below it.
    if (image::backing_path(disk.frozen) != disk.chain.front().path)
        throw util::RefusedError("the kept overlay " + quoted(disk.frozen) + " is not backed by " +
                                 quoted(disk.chain.front().path) + "; nothing was merged");
    util::run_checked({"qemu-img", "commit", "-q", "-f", "qcow2", disk.frozen});
    // The overlay above now reads through the image below: same content,
    // so its header only needs the new name.
    util::run_checked({"qemu-img", "rebase", "-u", "-f", "qcow2", "-b", disk.chain.front().path, "-F",
                       disk.chain.front().format, disk.overlay});
}

// A persistent definition written by the snapshot names the kept overlay
// as the new overlay's backing image; a start would look for it. Defined
// again with each merged disk on its new overlay alone (the chain below
// then comes from the images).
void forget_kept_overlays(const Domain& domain, const std::vector<const xml::SnapshotDisk*>& merged) {
    if (merged.empty() || !domain.is_persistent())
        return;
    const std::string what = "persistent XML of " + domain.name();
    std::string xml = domain.inactive_xml_secure();
    for (const xml::SnapshotDisk* disk : merged)
        xml = xml::with_disk_source(xml, disk->target, "file", disk->overlay, "qcow2", what);
    DomainHandle defined(virDomainDefineXML(virDomainGetConnect(domain.get()), xml.c_str()));
    if (!defined)
        throw_last_error("cannot define domain " + quoted(domain.name()) +
                         " without its merged kept overlays");
}

} // namespace

void merge_kept_overlays(const Connection& conn, const Domain& domain, const std::string& below,
                         const std::vector<xml::SnapshotDisk>& disks, const MergeSettings& settings,
                         const util::Log& log) {
    std::vector<std::string> errors;
    std::vector<const xml::SnapshotDisk*> to_merge, merged;
    std::map<std::string, xml::Disk> now = disks_by_target(domain);
    for (const xml::SnapshotDisk& disk : disks) {
        if (below.empty() || !xml::is_overlay_of(disk.frozen, below, disk.target) || disk.chain.empty())
            continue;
        auto found = now.find(disk.target);
        if (found == now.end() || found->second.source != disk.overlay) {
            errors.push_back("disk " + quoted(disk.target) + " is no longer on the overlay " +
                             quoted(disk.overlay) + "; its kept overlay " + quoted(disk.frozen) + " is left");
            continue;
        }
        if (in_chain(found->second, disk.frozen))
            to_merge.push_back(&disk);
        merged.push_back(&disk);
    }
    if (!to_merge.empty()) {
        if (domain.is_active()) {
            util::PhaseTimer committing("commit below");
            for (std::string& error : commit_running(conn, domain, to_merge, settings, log))
                errors.push_back(std::move(error));
            committing.stop();
            util::PhaseTimer shortening("chain update below");
            // The job is gone a moment before libvirt's definition shows
            // the shorter chain: wait for it a little, not for ever.
            for (int i = 0; i < 200; ++i) {
                now = disks_by_target(domain);
                if (std::none_of(to_merge.begin(), to_merge.end(), [&](const xml::SnapshotDisk* d) {
                        auto it = now.find(d->target);
                        return it != now.end() && in_chain(it->second, d->frozen);
                    }))
                    break;
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        } else {
            std::vector<const xml::SnapshotDisk*> done;
            for (const xml::SnapshotDisk* disk : to_merge) {
                try {
                    commit_shut_off(*disk);
                    done.push_back(disk);
                } catch (const util::Error& error) {
                    errors.push_back("disk " + quoted(disk->target) + ": " + error.what());
                }
            }
            try {
                forget_kept_overlays(domain, done);
            } catch (const util::Error& error) {
                errors.push_back(error.what());
            }
        }
        now = disks_by_target(domain);
    }
    for (const xml::SnapshotDisk* disk : merged) {
        if (!exists(disk->frozen))
            continue;
        const auto found = now.find(disk->target);
        std::string reason;
        if (found != now.end() && in_chain(found->second, disk->frozen))
            reason = "the domain's chain still holds it";
        else if (image::backing_path(disk->overlay) == disk->frozen)
            reason = "the overlay " + quoted(disk->overlay) + " still names it as its backing file";
        else if (domain.is_persistent() &&
                 xml::disk_source(domain.inactive_xml(), disk->target, "persistent XML") == disk->frozen)
            reason = "the persistent definition still names it";
        if (!reason.empty()) {
            errors.push_back("the kept overlay " + quoted(disk->frozen) + " of disk " + quoted(disk->target) +
                             " stays: " + reason);
            continue;
        }
        store::remove_durable(disk->frozen);
        log.debug("removed the kept overlay " + quoted(disk->frozen));
    }
    if (errors.empty())
        return;
    std::string message;
    for (const std::string& error : errors)
        message += (message.empty() ? "" : "; ") + error;
    throw util::Error(message + " (the domain runs on a consistent chain; 'virtsnap-commit --recover " +
                      domain.name() + "' retries)");
}

} // namespace virtsnap::virt
