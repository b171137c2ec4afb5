#include "virt/merge_overlays.hpp"

#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/progress.hpp"
#include "util/subprocess.hpp"
#include "virt/block_commit.hpp"
#include "virt/disk_inventory.hpp"
#include "virt/libvirt_error.hpp"
#include "virt/qemu_img.hpp"
#include "xml/disk_source_edit.hpp"
#include "xml/snapshot_xml.hpp"

#include <sys/stat.h>

namespace virtsnap::virt {

using util::quoted;

namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

class DiskMerger {
  public:
    DiskMerger(const Connection& conn, const Domain& domain, BlockJobEvents& events,
               const xml::Manifest& record, const xml::ManifestDisk& disk, const MergeSettings& settings,
               const util::Log& log)
        : conn_(conn), domain_(domain), events_(events), record_(record), disk_(disk), settings_(settings),
          log_(log), label_("disk " + quoted(disk.target) + " of domain " + quoted(domain.name())) {}

    void run() {
        bool merged_online = false;
        if (domain_.is_active()) {
            try {
                merged_online = merge_online();
            } catch (const util::Error&) {
                // A guest that shut down under the commit is merged offline.
                if (domain_.is_active())
                    throw;
                log_.warn("domain " + quoted(domain_.name()) + " shut down during the commit of disk " +
                          quoted(disk_.target) + "; merging offline");
            }
        }
        if (!domain_.is_active())
            merge_offline();
        else if (merged_online)
            check_live_chain();
        check_persistent_definition();
        remove_overlay();
    }

  private:
    const xml::Disk live_disk() const {
        for (xml::Disk& disk : read_domain_disks(domain_))
            if (disk.target == disk_.target)
                return disk;
        throw util::Error(label_ + " is no longer attached; its overlay " + quoted(disk_.overlay) +
                          " is kept (commit it by hand with 'qemu-img commit')");
    }

    // True when a commit ran.
    bool merge_online() {
        xml::Disk live = live_disk();
        if (live.source == disk_.frozen)
            return false;
        if (live.source != disk_.overlay)
            throw util::RefusedError(label_ + " is on " + quoted(live.source) +
                                     ", neither the frozen image " + quoted(disk_.frozen) +
                                     " nor the overlay " + quoted(disk_.overlay) + "; nothing was changed");
        if (live.backing.empty() || live.backing.front().path != disk_.frozen)
            throw util::RefusedError(label_ + ": overlay " + quoted(disk_.overlay) +
                                     " is not on the frozen image " + quoted(disk_.frozen) +
                                     "; nothing was changed");
        util::Progress progress(log_, "commit " + disk_.target);
        CommitRequest request{disk_.target, disk_.overlay, disk_.frozen, settings_.timeout,
                              settings_.bandwidth_mib};
        commit_active_shallow(domain_, events_, request, progress);
        progress.finish("merged into " + quoted(disk_.frozen));
        return true;
    }

    void check_live_chain() const {
        xml::Disk live = live_disk();
        std::string problem;
        if (live.source != disk_.frozen)
            problem = "is on " + quoted(live.source) + " instead of " + quoted(disk_.frozen);
        else if (live.format != disk_.format)
            problem = "has format " + quoted(live.format) + " instead of " + quoted(disk_.format);
        else if (live.backing.size() != disk_.chain.size())
            problem = "has a chain of " + std::to_string(live.backing.size()) +
                      " backing images instead of " + std::to_string(disk_.chain.size());
        for (size_t i = 0; problem.empty() && i < live.backing.size(); ++i) {
            if (live.backing[i].path != disk_.chain[i].path)
                problem = "has backing image " + quoted(live.backing[i].path) + " where " +
                          quoted(disk_.chain[i].path) + " was";
        }
        if (!problem.empty())
            throw util::Error("after the pivot, " + label_ + " " + problem + "; the overlay " +
                              quoted(disk_.overlay) + " is kept");
    }

    void merge_offline() {
        const std::string xml = domain_.inactive_xml_secure();
        const std::string source = xml::disk_source(xml, disk_.target, "persistent XML of " + domain_.name());
        if (source == disk_.frozen)
            return;
        if (source != disk_.overlay)
            throw util::RefusedError(label_ + " is defined on " + quoted(source) +
                                     ", neither the frozen image " + quoted(disk_.frozen) +
                                     " nor the overlay " + quoted(disk_.overlay) + "; nothing was changed");
        check_overlay_backing();
        log_.info("committing " + quoted(disk_.overlay) + " into " + quoted(disk_.frozen) + " offline");
        util::ProcessResult commit =
            util::run_process({"qemu-img", "commit", "-q", "-f", "qcow2", disk_.overlay});
        if (!commit.succeeded())
            throw util::Error("offline commit of " + quoted(disk_.overlay) + " into " + quoted(disk_.frozen) +
                              " failed: qemu-img " + commit.describe_failure() + "; the overlay is kept");
        redefine(xml, "put back on " + quoted(disk_.frozen) + " after the offline commit");
    }

    // The overlay must sit directly on the frozen image: qemu-img commit
    // writes into the immediate backing image, whatever that is.
    void check_overlay_backing() const {
        std::vector<ImageInfo> chain = query_image_chain(disk_.overlay, "qcow2");
        if (chain.size() < 2 || chain[1].filename != disk_.frozen)
            throw util::RefusedError("overlay " + quoted(disk_.overlay) + " of " + label_ +
                                     " is not backed by the frozen image " + quoted(disk_.frozen) +
                                     "; nothing was changed");
    }

    void redefine(const std::string& xml, const std::string& why) const {
        std::string fixed = xml::with_disk_source(xml, disk_.target, disk_.source_type, disk_.frozen,
                                                  disk_.format, "persistent XML of " + domain_.name());
        DomainHandle defined(virDomainDefineXML(conn_.get(), fixed.c_str()));
        if (!defined)
            throw_last_error("cannot redefine domain " + quoted(domain_.name()) + " with " + label_ + " " +
                             why);
        log_.info("persistent definition: " + label_ + " " + why);
    }

    void check_persistent_definition() const {
        if (!domain_.is_persistent())
            return;
        const std::string xml = domain_.inactive_xml_secure();
        const std::string source = xml::disk_source(xml, disk_.target, "persistent XML of " + domain_.name());
        if (source == disk_.frozen)
            return;
        if (source == disk_.overlay) {
            // Older libvirt left the persistent definition on the overlay
            // after a pivot (PITFALLS 7); the overlay is about to go away.
            redefine(xml, "corrected: it still named the overlay");
            return;
        }
        log_.warn("the persistent definition puts " + label_ + " on " + quoted(source) +
                  ", not on the recorded image " + quoted(disk_.frozen) + "; left as it is");
    }

    // Deletes the overlay only when it is recognisably this snapshot's
    // overlay of this disk and nothing uses it any more.
    void remove_overlay() const {
        if (!exists(disk_.overlay))
            return;
        std::string reason;
        const std::string marker = ".virtsnap-" + record_.snapshot_id + "." + disk_.target + ".qcow2";
        const std::string& path = disk_.overlay;
        if (!xml::looks_like_overlay(path) || path.size() < marker.size() ||
            path.compare(path.size() - marker.size(), marker.size(), marker) != 0)
            reason = "its name is not that of this snapshot's overlay";
        else if (domain_.is_active() && live_disk().source == path)
            reason = "the domain still writes to it";
        else if (domain_.is_persistent() &&
                 xml::disk_source(domain_.inactive_xml(), disk_.target, "persistent XML") == path)
            reason = "the persistent definition still names it";
        else {
            std::vector<ImageInfo> chain = query_image_chain(path, "qcow2");
            if (chain.size() < 2 || chain[1].filename != disk_.frozen)
                reason = "it is not backed by the frozen image";
        }
        if (!reason.empty()) {
            log_.warn("overlay " + quoted(path) + " of " + label_ + " is kept: " + reason);
            return;
        }
        store::remove_durable(path);
        log_.debug("removed overlay " + quoted(path));
    }

    const Connection& conn_;
    const Domain& domain_;
    BlockJobEvents& events_;
    const xml::Manifest& record_;
    const xml::ManifestDisk& disk_;
    const MergeSettings& settings_;
    const util::Log& log_;
    std::string label_;
};

} // namespace

void merge_overlays(const Connection& conn, const Domain& domain, const xml::Manifest& record,
                    const MergeSettings& settings, const util::Log& log) {
    BlockJobEvents events(conn, domain);
    if (!events.active())
        log.debug("block-job events unavailable; polling the commit jobs");
    std::string failures;
    bool refused = false;
    for (const xml::ManifestDisk& disk : record.disks) {
        try {
            DiskMerger(conn, domain, events, record, disk, settings, log).run();
        } catch (const util::RefusedError& error) {
            refused = true;
            failures += (failures.empty() ? "" : "; ") + std::string(error.what());
        } catch (const util::Error& error) {
            failures += (failures.empty() ? "" : "; ") + std::string(error.what());
        }
    }
    if (failures.empty())
        return;
    if (refused)
        throw util::RefusedError(failures);
    throw util::Error(failures);
}

bool on_virtsnap_overlay(const Domain& domain, std::string* which) {
    xml::Document doc = xml::Document::parse(domain.xml(), "XML of domain " + quoted(domain.name()));
    for (const xml::Disk& disk : xml::parse_domain_disks(doc)) {
        if (!disk.source.empty() && xml::looks_like_overlay(disk.source)) {
            if (which)
                *which = "disk " + quoted(disk.target) + " is on " + quoted(disk.source);
            return true;
        }
    }
    return false;
}

} // namespace virtsnap::virt
