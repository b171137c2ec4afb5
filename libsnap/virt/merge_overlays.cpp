#include "virt/merge_overlays.hpp"

#include "image/qcow2_header.hpp"
#include "image/qemu_img.hpp"
#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/phase_times.hpp"
#include "util/progress.hpp"
#include "util/subprocess.hpp"
#include "virt/block_commit.hpp"
#include "virt/disk_inventory.hpp"
#include "virt/libvirt_error.hpp"
#include "xml/disk_source_edit.hpp"
#include "xml/snapshot_xml.hpp"

#include <map>
#include <memory>
#include <sys/stat.h>

namespace virtsnap::virt {

using util::quoted;

namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// One disk's way through the merge.
struct DiskMerge {
    DiskMerge(const xml::SnapshotDisk& d, std::string l) : disk(d), label(std::move(l)) {}

    const xml::SnapshotDisk& disk;
    std::string label;
    bool changed = false; // merged (or redefined) by this run
    bool done = false;    // on its frozen image, nothing left to do but clean up
    bool refused = false;
    std::string error;

    bool failed() const noexcept { return !error.empty(); }
    void fail(const util::Error& e) {
        refused = dynamic_cast<const util::RefusedError*>(&e) != nullptr;
        error = e.what();
    }
};

std::map<std::string, xml::Disk> live_disks(const Domain& domain) {
    std::map<std::string, xml::Disk> by_target;
    for (xml::Disk& disk : read_domain_disks(domain))
        by_target.emplace(disk.target, std::move(disk));
    return by_target;
}

class Merger {
  public:
    Merger(const Connection& conn, const Domain& domain, const std::string& snapshot_id,
           const std::vector<xml::SnapshotDisk>& disks, const MergeSettings& settings, const util::Log& log)
        : conn_(conn), domain_(domain), snapshot_id_(snapshot_id), settings_(settings), log_(log) {
        for (const xml::SnapshotDisk& disk : disks)
            merges_.emplace_back(disk, "disk " + quoted(disk.target) + " of domain " + quoted(domain.name()));
    }

    void run() {
        if (domain_.is_active())
            merge_online();
        if (!domain_.is_active())
            merge_offline();
        util::PhaseTimer checking("persistent definition check");
        check_persistent_definition();
        checking.stop();
        util::PhaseTimer removing("overlay removal");
        remove_overlays();
        removing.stop();
        report();
    }

  private:
    // Step 1: a running domain, one live definition for every disk. The
    // disks' commits run side by side, each pivoting on its own READY.
    void merge_online() {
        std::map<std::string, xml::Disk> live = live_disks(domain_);
        BlockJobEvents events(conn_, domain_);
        if (!events.active())
            log_.debug("block-job events unavailable; polling the commit jobs");
        std::vector<std::unique_ptr<OnlineCommit>> running;
        std::vector<DiskMerge*> committed;
        for (DiskMerge& m : merges_) {
            try {
                auto found = live.find(m.disk.target);
                if (found == live.end())
                    throw util::Error(m.label + " is no longer attached; its overlay " +
                                      quoted(m.disk.overlay) +
                                      " is kept (commit it by hand with 'qemu-img commit')");
                if (std::unique_ptr<OnlineCommit> commit = start_commit(m, found->second, events))
                    running.push_back(std::move(commit));
            } catch (const util::Error& error) {
                if (shut_down_under_commit(m))
                    return;
                m.fail(error);
            }
        }
        while (!running.empty()) {
            const std::uint64_t seen = events.generation();
            for (auto it = running.begin(); it != running.end();) {
                OnlineCommit& commit = **it;
                try {
                    if (!commit.job.poll()) {
                        ++it;
                        continue;
                    }
                    commit.progress.finish("merged into " + quoted(commit.merge.disk.frozen));
                    committed.push_back(&commit.merge);
                } catch (const util::Error& error) {
                    if (shut_down_under_commit(commit.merge))
                        return;
                    commit.merge.fail(error);
                }
                it = running.erase(it);
            }
            if (!running.empty())
                events.wait_after(seen, commit_poll_interval);
        }
        if (!committed.empty()) {
            util::PhaseTimer checking("live chain check");
            check_live_chains(committed);
        }
    }

    // A guest that shut down under the commit is merged offline.
    bool shut_down_under_commit(const DiskMerge& m) const {
        if (domain_.is_active())
            return false;
        log_.warn("domain " + quoted(domain_.name()) + " shut down during the commit of disk " +
                  quoted(m.disk.target) + "; merging offline");
        return true;
    }

    struct OnlineCommit {
        OnlineCommit(DiskMerge& m, const Domain& domain, BlockJobEvents& events, CommitRequest request,
                     const util::Log& log)
            : merge(m), timer("commit " + m.disk.target), progress(log, "commit " + m.disk.target),
              job(domain, events, std::move(request), progress) {}
        DiskMerge& merge;
        util::PhaseTimer timer;
        util::Progress progress;
        ActiveCommit job;
    };

    // The disk's commit, started; none when the disk is on its frozen image
    // already.
    std::unique_ptr<OnlineCommit> start_commit(DiskMerge& m, const xml::Disk& live, BlockJobEvents& events) {
        if (live.source == m.disk.frozen) {
            m.done = true;
            return nullptr;
        }
        if (live.source != m.disk.overlay)
            throw util::RefusedError(m.label + " is on " + quoted(live.source) +
                                     ", neither the frozen image " + quoted(m.disk.frozen) +
                                     " nor the overlay " + quoted(m.disk.overlay) + "; nothing was changed");
        if (live.backing.empty() || live.backing.front().path != m.disk.frozen)
            throw util::RefusedError(m.label + ": overlay " + quoted(m.disk.overlay) +
                                     " is not on the frozen image " + quoted(m.disk.frozen) +
                                     "; nothing was changed");
        CommitRequest request{m.disk.target, m.disk.overlay, m.disk.frozen, settings_.timeout,
                              settings_.bandwidth_mib};
        return std::make_unique<OnlineCommit>(m, domain_, events, std::move(request), log_);
    }

    // Step 2: one more live definition, to see every pivot landed where it
    // should.
    void check_live_chains(const std::vector<DiskMerge*>& committed) {
        std::map<std::string, xml::Disk> live = live_disks(domain_);
        for (DiskMerge* m : committed) {
            auto found = live.find(m->disk.target);
            std::string problem;
            if (found == live.end())
                problem = "is no longer attached";
            else if (found->second.source != m->disk.frozen)
                problem = "is on " + quoted(found->second.source) + " instead of " + quoted(m->disk.frozen);
            else if (found->second.format != m->disk.format)
                problem =
                    "has format " + quoted(found->second.format) + " instead of " + quoted(m->disk.format);
            else if (found->second.backing.size() != m->disk.chain.size())
                problem = "has a chain of " + std::to_string(found->second.backing.size()) +
                          " backing images instead of " + std::to_string(m->disk.chain.size());
            for (size_t i = 0; problem.empty() && i < m->disk.chain.size(); ++i)
                if (found->second.backing[i].path != m->disk.chain[i].path)
                    problem = "has backing image " + quoted(found->second.backing[i].path) + " where " +
                              quoted(m->disk.chain[i].path) + " was";
            if (!problem.empty()) {
                m->fail(util::Error("after the pivot, " + m->label + " " + problem + "; the overlay " +
                                    quoted(m->disk.overlay) + " is kept"));
                continue;
            }
            m->changed = true;
            m->done = true;
        }
    }

    // Step 1 for a shut-off domain: one persistent definition for every disk.
    void merge_offline() {
        const std::string what = "persistent XML of " + domain_.name();
        std::string xml = domain_.inactive_xml_secure();
        bool redefine = false;
        for (DiskMerge& m : merges_) {
            if (m.failed() || m.done)
                continue;
            try {
                const std::string source = xml::disk_source(xml, m.disk.target, what);
                if (source == m.disk.frozen) {
                    m.done = true;
                    continue;
                }
                if (source != m.disk.overlay)
                    throw util::RefusedError(m.label + " is defined on " + quoted(source) +
                                             ", neither the frozen image " + quoted(m.disk.frozen) +
                                             " nor the overlay " + quoted(m.disk.overlay) +
                                             "; nothing was changed");
                check_overlay_backing(m);
                log_.info("committing " + quoted(m.disk.overlay) + " into " + quoted(m.disk.frozen) +
                          " offline");
                util::ProcessResult commit =
                    util::run_process({"qemu-img", "commit", "-q", "-f", "qcow2", m.disk.overlay});
                if (!commit.succeeded())
                    throw util::Error("offline commit of " + quoted(m.disk.overlay) + " into " +
                                      quoted(m.disk.frozen) + " failed: qemu-img " +
                                      commit.describe_failure() + "; the overlay is kept");
                xml = xml::with_disk_source(xml, m.disk.target, m.disk.source_type, m.disk.frozen,
                                            m.disk.format, what);
                redefine = true;
                m.changed = true;
                m.done = true;
                log_.info("persistent definition: " + m.label + " put back on " + quoted(m.disk.frozen) +
                          " after the offline commit");
            } catch (const util::Error& error) {
                m.fail(error);
            }
        }
        if (!redefine)
            return;
        try {
            define(xml);
        } catch (const util::Error& error) {
            // The images are merged, but the definition still names the
            // overlays: they stay, a consistent chain, for --recover.
            for (DiskMerge& m : merges_)
                if (m.changed) {
                    m.fail(error);
                    m.done = false;
                }
        }
    }

    // The overlay must sit directly on the frozen image: qemu-img commit
    // writes into the immediate backing image, whatever that is.
    void check_overlay_backing(const DiskMerge& m) const {
        std::vector<image::ImageInfo> chain = image::query_image_chain(m.disk.overlay, "qcow2");
        if (chain.size() < 2 || chain[1].filename != m.disk.frozen)
            throw util::RefusedError("overlay " + quoted(m.disk.overlay) + " of " + m.label +
                                     " is not backed by the frozen image " + quoted(m.disk.frozen) +
                                     "; nothing was changed");
    }

    void define(const std::string& xml) const {
        DomainHandle defined(virDomainDefineXML(conn_.get(), xml.c_str()));
        if (!defined)
            throw_last_error("cannot redefine domain " + quoted(domain_.name()) + " on its original images");
    }

    // Step 3: one persistent definition, fixed in one define where it still
    // names an overlay (older libvirt left it so after a pivot, libvirt
    // issue 240, and a domain that shut down under a commit keeps it too).
    void check_persistent_definition() {
        if (!domain_.is_persistent())
            return;
        const std::string what = "persistent XML of " + domain_.name();
        std::string xml = domain_.inactive_xml_secure();
        bool redefine = false;
        for (DiskMerge& m : merges_) {
            if (!m.done)
                continue;
            const std::string source = xml::disk_source(xml, m.disk.target, what);
            if (source == m.disk.frozen)
                continue;
            if (source == m.disk.overlay) {
                xml = xml::with_disk_source(xml, m.disk.target, m.disk.source_type, m.disk.frozen,
                                            m.disk.format, what);
                redefine = true;
                log_.info("persistent definition: " + m.label + " corrected: it still named the overlay");
                continue;
            }
            log_.warn("the persistent definition puts " + m.label + " on " + quoted(source) +
                      ", not on the recorded image " + quoted(m.disk.frozen) + "; left as it is");
        }
        if (!redefine)
            return;
        try {
            define(xml);
        } catch (const util::Error& error) {
            for (DiskMerge& m : merges_)
                if (m.done && !m.failed())
                    m.fail(error);
        }
    }

    // Step 4: deletes each overlay only when it is recognisably this
    // snapshot's overlay of its disk and nothing uses it any more (one live
    // and one persistent definition for all of them).
    void remove_overlays() {
        std::vector<DiskMerge*> removable;
        for (DiskMerge& m : merges_)
            if (m.done && !m.failed() && exists(m.disk.overlay))
                removable.push_back(&m);
        if (removable.empty())
            return;
        std::map<std::string, xml::Disk> live;
        if (domain_.is_active())
            live = live_disks(domain_);
        const std::string persistent = domain_.is_persistent() ? domain_.inactive_xml() : "";
        for (DiskMerge* m : removable) {
            std::string reason;
            const std::string marker = ".virtsnap-" + snapshot_id_ + "." + m->disk.target + ".qcow2";
            const std::string& path = m->disk.overlay;
            auto found = live.find(m->disk.target);
            if (!xml::looks_like_overlay(path) || path.size() < marker.size() ||
                path.compare(path.size() - marker.size(), marker.size(), marker) != 0)
                reason = "its name is not that of this snapshot's overlay";
            else if (found != live.end() && found->second.source == path)
                reason = "the domain still writes to it";
            else if (!persistent.empty() &&
                     xml::disk_source(persistent, m->disk.target, "persistent XML") == path)
                reason = "the persistent definition still names it";
            else if (image::backing_path(path) != m->disk.frozen)
                // From the header, in-process: a qemu-img per overlay was a
                // good part of a backup's fixed cost, and only the name
                // matters here.
                reason = "it is not backed by the frozen image";
            if (!reason.empty()) {
                log_.warn("overlay " + quoted(path) + " of " + m->label + " is kept: " + reason);
                continue;
            }
            store::remove_durable(path);
            log_.debug("removed overlay " + quoted(path));
        }
    }

    void report() const {
        std::string failures, merged;
        bool refused_only = true;
        bool any_changed = false;
        for (const DiskMerge& m : merges_) {
            if (m.failed()) {
                failures += (failures.empty() ? "" : "; ") + m.error;
                refused_only = refused_only && m.refused;
            } else if (m.changed) {
                any_changed = true;
                merged += (merged.empty() ? "" : ", ") + quoted(m.disk.target);
            }
        }
        if (failures.empty())
            return;
        if (any_changed)
            throw util::PartialFailure("disk(s) " + merged + " merged back; " + failures);
        if (refused_only)
            throw util::RefusedError(failures);
        throw util::Error(failures);
    }

    const Connection& conn_;
    const Domain& domain_;
    const std::string& snapshot_id_;
    const MergeSettings& settings_;
    const util::Log& log_;
    std::vector<DiskMerge> merges_;
};

} // namespace

void merge_overlays(const Connection& conn, const Domain& domain, const std::string& snapshot_id,
                    const std::vector<xml::SnapshotDisk>& disks, const MergeSettings& settings,
                    const util::Log& log) {
    Merger(conn, domain, snapshot_id, disks, settings, log).run();
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

std::vector<xml::SnapshotDisk> overlays_in_use(const Domain& domain, std::string& snapshot_id) {
    static const std::string marker = ".virtsnap-";
    std::vector<xml::SnapshotDisk> found;
    snapshot_id.clear();
    for (const xml::Disk& disk : read_domain_disks(domain)) {
        if (disk.source.empty() || !xml::looks_like_overlay(disk.source))
            continue;
        const std::string name = disk.source.substr(disk.source.rfind('/') + 1);
        const std::size_t at = name.rfind(marker);
        const std::string id =
            at == std::string::npos
                ? ""
                : name.substr(at + marker.size(), name.find('.', at + marker.size()) - at - marker.size());
        if (id.empty() || !xml::is_overlay_of(disk.source, id, disk.target) || disk.backing.empty())
            throw util::RefusedError("disk " + quoted(disk.target) + " of domain " + quoted(domain.name()) +
                                     " is on " + quoted(disk.source) +
                                     ", named like a virtsnap overlay but not one of its disk with an image "
                                     "under it; merge it by hand");
        if (!snapshot_id.empty() && id != snapshot_id)
            throw util::RefusedError("domain " + quoted(domain.name()) +
                                     " runs on virtsnap overlays of two "
                                     "snapshots (" +
                                     snapshot_id + " and " + id + "); merge them by hand");
        snapshot_id = id;
        xml::SnapshotDisk kept;
        kept.target = disk.target;
        kept.source_type = disk.backing.front().type == xml::DiskType::block ? "block" : "file";
        kept.format = disk.backing.front().format;
        kept.frozen = disk.backing.front().path;
        kept.overlay = disk.source;
        for (std::size_t i = 1; i < disk.backing.size(); ++i)
            kept.chain.push_back({disk.backing[i].path, disk.backing[i].format});
        found.push_back(std::move(kept));
    }
    return found;
}

} // namespace virtsnap::virt
