#include "job/backup_level.hpp"

#include "store/backup_set.hpp"
#include "store/set_block_sums.hpp"
#include "store/set_chain.hpp"
#include "store/set_images.hpp"
#include "util/error.hpp"
#include "xml/document.hpp"
#include "xml/domain_disks.hpp"

#include <algorithm>
#include <map>

namespace virtsnap::job {

using util::quoted;

namespace {

// Why the record cannot carry an incremental; empty when it can.
std::string broken_record(const TrackingState& state, const std::string& domain_dir,
                          const xml::Manifest& manifest) {
    const std::optional<store::TrackingRecord>& tracking = state.record;
    if (!tracking)
        return state.lost.empty()
                   ? "the domain has no change record (no full or inc backup kept one, or its tracking ended)"
                   : state.lost;
    if (tracking->domain_dir != domain_dir)
        return "its change record continues the sets in " + quoted(tracking->domain_dir) + ", not in " +
               quoted(domain_dir);
    for (const xml::SnapshotDisk& kept : tracking->disks)
        if (!manifest.find_disk(kept.target))
            return "disk " + quoted(kept.target) + " of the change record is not in this backup";
    for (const xml::ManifestDisk& disk : manifest.disks) {
        const xml::SnapshotDisk* kept = tracking->find(disk.target);
        if (!kept)
            return "disk " + quoted(disk.target) + " is not in the change record (added since its set " +
                   tracking->set_id + ")";
        if (disk.frozen != kept->overlay)
            return "disk " + quoted(disk.target) + " is not on the change record's overlay " +
                   quoted(kept->overlay);
        if (disk.chain.empty() || disk.chain.front().path != kept->frozen)
            return "the kept overlay of disk " + quoted(disk.target) +
                   " is no longer backed by its own image " + quoted(kept->frozen) +
                   " (rebased, pulled or committed by hand?)";
        const store::TrackingRecord::Stamps* stamps = tracking->stamps_of(disk.target);
        // An empty stamp (the file could not be read) matches nothing.
        if (!stamps || stamps->overlay.empty() || stamps->overlay != store::file_stamp(kept->overlay, false))
            return "the kept overlay " + quoted(kept->overlay) +
                   " is not the file the change record names "
                   "(replaced?)";
        if (stamps->image.empty() || stamps->image != store::file_stamp(kept->frozen, true))
            return "the image " + quoted(kept->frozen) + " of disk " + quoted(disk.target) +
                   " changed since the change record was written (written by hand, or replaced?)";
    }
    if (manifest.snapshot_id <= tracking->set_id)
        return "this set's id " + manifest.snapshot_id + " is not newer than the previous set's " +
               tracking->set_id + " (the clock went back?)";
    const std::string parent_dir = domain_dir + "/" + tracking->set_id;
    store::BackupSet parent;
    try {
        parent = store::read_set(parent_dir);
        if (parent.manifest->snapshot_id != tracking->set_id)
            throw util::InputError("backup set " + quoted(parent_dir) +
                                   " is damaged: its manifest records the set " +
                                   quoted(parent.manifest->snapshot_id));
    } catch (const util::Error& error) {
        return "the previous set of the chain cannot be used: " + std::string(error.what());
    }
    for (const xml::ManifestDisk& disk : manifest.disks) {
        const xml::ManifestDisk* before = parent.manifest->find_disk(disk.target);
        if (!before || !before->backup)
            return "the previous set " + tracking->set_id + " holds no backup of disk " + quoted(disk.target);
        // The kept overlay was made by that set's snapshot (or, offline,
        // copied by it): it holds exactly what changed since.
        if (before->overlay != disk.frozen && before->frozen != disk.frozen)
            return "the previous set " + tracking->set_id + " did not leave disk " + quoted(disk.target) +
                   " on its kept overlay";
        if (before->backup->format != "qcow2")
            return "the previous set " + tracking->set_id + " holds disk " + quoted(disk.target) +
                   " as a raw image, which an incremental layer cannot name as its backing";
        if (before->virtual_size != disk.virtual_size)
            return "disk " + quoted(disk.target) + " was resized since the previous set " + tracking->set_id;
    }
    if (parent.manifest->domain_uuid != manifest.domain_uuid)
        return "the previous set " + tracking->set_id + " is of another domain";
    // Every set below it must be there and sound too, or the new layer
    // would hang on a chain no one can restore.
    for (const xml::ManifestDisk& disk : parent.manifest->disks) {
        if (!manifest.find_disk(disk.target))
            continue;
        try {
            store::disk_chain(parent.path, *parent.manifest, disk);
        } catch (const util::Error& error) {
            return "the previous set of the chain cannot be used: " + std::string(error.what());
        }
    }
    if (incrementals_since_full(domain_dir, tracking->set_id) >= max_chain_incrementals)
        return "the chain already holds " + std::to_string(max_chain_incrementals) +
               " incrementals (the most virtsnap builds on; --full-every keeps chains shorter)";
    return "";
}

// The set an incremental by content can compare with: the record's set
// when the record continues this domain directory, else the newest
// complete set of this domain taken at full, inc or diff. Empty (why in
// why_not) when there is none.
std::string content_candidate(const TrackingState& state, const std::string& domain_dir,
                              const xml::Manifest& manifest, std::string& why_not) {
    if (state.record && state.record->domain_dir == domain_dir)
        return state.record->set_id;
    const std::vector<store::BackupSet> sets = store::list_domain_sets(domain_dir);
    for (auto set = sets.rbegin(); set != sets.rend(); ++set) {
        if (!set->complete || !set->manifest || set->id >= manifest.snapshot_id)
            continue;
        const xml::Manifest& m = *set->manifest;
        if (m.domain_uuid == manifest.domain_uuid && (m.level == "full" || m.on_parent()))
            return set->id;
    }
    why_not = "there is no complete full, inc or diff set of the domain in " + quoted(domain_dir) +
              " to compare with";
    return "";
}

// Why the set base_id cannot carry an incremental by content; empty when it
// can (then sums holds its block sums of every disk).
std::string unusable_base(const std::string& domain_dir, const std::string& base_id,
                          const xml::Manifest& manifest, unsigned full_every,
                          std::map<std::string, image::BlockSums>& sums) {
    const std::string base_dir = domain_dir + "/" + base_id;
    store::BackupSet base;
    try {
        base = store::read_set(base_dir);
    } catch (const util::Error& error) {
        return "the set " + base_id + " cannot be read: " + error.what();
    }
    const xml::Manifest& before = *base.manifest;
    if (before.snapshot_id != base_id)
        return "the set " + base_id + " is damaged: its manifest records the set " +
               quoted(before.snapshot_id);
    if (before.domain_uuid != manifest.domain_uuid)
        return "the set " + base_id + " is of another domain";
    if (base_id >= manifest.snapshot_id)
        return "this set's id " + manifest.snapshot_id + " is not newer than the set " + base_id + "'s";
    if (before.level != "full" && !before.on_parent())
        return "the set " + base_id + " was taken at level " +
               (before.level.empty() ? "copy" : before.level) +
               " (only full, inc and diff sets keep block sums)";
    for (const xml::ManifestDisk& disk : before.disks)
        if (!manifest.find_disk(disk.target))
            return "disk " + quoted(disk.target) + " of the set " + base_id + " is not in this backup";
    for (const xml::ManifestDisk& disk : manifest.disks) {
        const xml::ManifestDisk* held = before.find_disk(disk.target);
        if (!held || !held->backup)
            return "the set " + base_id + " holds no backup of disk " + quoted(disk.target) +
                   " (added since?)";
        if (held->backup->format != "qcow2")
            return "the set " + base_id + " holds disk " + quoted(disk.target) +
                   " as a raw image, which an incremental layer cannot name as its backing";
        if (held->virtual_size != disk.virtual_size)
            return "disk " + quoted(disk.target) + " was resized since the set " + base_id;
        try {
            store::check_chain_images(store::disk_chain(base.path, before, *held));
            sums.emplace(disk.target, store::read_block_sums(base.path, *held));
        } catch (const util::Error& error) {
            return "the set " + base_id + " cannot be used: " + error.what();
        }
    }
    std::size_t held = 0;
    try {
        held = incrementals_since_full(domain_dir, base_id);
    } catch (const util::Error& error) {
        return "the chain of the set " + base_id + " cannot be read: " + error.what();
    }
    if (held >= max_chain_incrementals)
        return "the chain already holds " + std::to_string(max_chain_incrementals) + " incrementals";
    if (full_every > 0 && held >= full_every)
        return "the chain holds " + std::to_string(held) + " set(s) since its full (--full-every " +
               std::to_string(full_every) + ")";
    return "";
}

} // namespace

const char* to_string(Level level) {
    switch (level) {
    case Level::copy:
        return "copy";
    case Level::full:
        return "full";
    case Level::inc:
        return "inc";
    case Level::diff:
        return "diff";
    }
    return "copy";
}

TrackingState current_tracking(const virt::Domain& domain, const std::string& state_dir,
                               const util::Log& log) {
    TrackingState state;
    state.record = store::load_tracking(state_dir, domain.uuid());
    if (!state.record)
        return state;
    xml::Document doc = xml::Document::parse(domain.xml(), "XML of domain " + quoted(domain.name()));
    std::map<std::string, std::string> sources;
    for (const xml::Disk& disk : xml::parse_domain_disks(doc))
        sources[disk.target] = disk.source;
    std::string on, off;
    for (const xml::SnapshotDisk& kept : state.record->disks)
        (sources[kept.target] == kept.overlay ? on : off) += (quoted(kept.target) + " ");
    if (off.empty())
        return state;
    if (!on.empty())
        throw util::RefusedError("domain " + quoted(domain.name()) +
                                 " runs on the kept overlays of disk(s) " + on + "but no longer of " + off +
                                 "as its change record says; bring it back with "
                                 "'virtsnap-commit --end-tracking " +
                                 domain.name() + "'");
    std::string kept;
    for (const xml::SnapshotDisk& disk : state.record->disks)
        kept += (kept.empty() ? "" : ", ") + quoted(disk.overlay);
    state.lost = "its change record no longer held (the domain is on none of its overlays: merged or "
                 "replaced outside virtsnap) and was removed; if they still exist, the kept overlays " +
                 kept + " may hold writes its images lack";
    log.warn("domain " + quoted(domain.name()) + ": " + state.lost);
    store::remove_tracking(state_dir, domain.uuid());
    state.record.reset();
    return state;
}

void check_record_covered(const TrackingState& tracking, const xml::Manifest& manifest) {
    if (!tracking.record)
        return;
    for (const xml::SnapshotDisk& kept : tracking.record->disks)
        if (!manifest.find_disk(kept.target))
            throw util::RefusedError(
                "disk " + quoted(kept.target) +
                " is in the domain's change record, so a full or inc backs it up too "
                "(drop the --disk or --exclude-disk that leaves it out); nothing was kept");
}

std::string chain_full(const std::string& domain_dir, const std::string& set_id) {
    std::string id = set_id;
    for (std::size_t step = 0; step <= store::max_chain_sets; ++step) {
        const store::BackupSet set = store::read_set(domain_dir + "/" + id);
        if (!set.manifest->on_parent())
            return id;
        id = set.manifest->parent;
    }
    throw util::InputError("the chain of set " + quoted(domain_dir + "/" + set_id) +
                           " has no full set within " + std::to_string(store::max_chain_sets) + " sets");
}

void check_record_covered(const TrackingState& tracking, const std::vector<std::string>& include,
                          const std::vector<std::string>& exclude) {
    if (!tracking.record)
        return;
    auto named = [](const std::vector<std::string>& names, const std::string& target) {
        return std::find(names.begin(), names.end(), target) != names.end();
    };
    for (const xml::SnapshotDisk& kept : tracking.record->disks)
        if ((!include.empty() && !named(include, kept.target)) || named(exclude, kept.target))
            throw util::RefusedError(
                "disk " + quoted(kept.target) +
                " is in the domain's change record, so a full or inc backs it up too "
                "(drop the --disk or --exclude-disk that leaves it out); nothing was done");
}

std::size_t incrementals_since_full(const std::string& domain_dir, const std::string& set_id) {
    std::size_t count = 0;
    std::string id = set_id;
    // Each parent is older than its child (the manifest parser sees to
    // it), so this ends; the bound is for a chain no one would keep.
    for (std::size_t step = 0; step < 100000; ++step) {
        const store::BackupSet set = store::read_set(domain_dir + "/" + id);
        if (!set.manifest->on_parent())
            return count;
        ++count;
        id = set.manifest->parent;
    }
    return count;
}

LevelChoice choose_level(Level requested, const TrackingState& tracking, const std::string& domain_dir,
                         const xml::Manifest& manifest, unsigned full_every) {
    LevelChoice choice;
    choice.level = requested;
    if (requested != Level::inc && requested != Level::diff)
        return choice;
    const std::string asked = std::string(to_string(requested)) + " asked for, full taken: ";
    const std::string broken = broken_record(tracking, domain_dir, manifest);
    if (broken.empty() && full_every > 0) {
        const std::size_t held = incrementals_since_full(domain_dir, tracking.record->set_id);
        if (held >= full_every) {
            choice.level = Level::full;
            choice.reason = asked + "the chain holds " + std::to_string(held) +
                            " incremental(s) since its full (--full-every " + std::to_string(full_every) +
                            ")";
            return choice;
        }
    }
    if (broken.empty()) {
        choice.parent = requested == Level::inc ? tracking.record->set_id
                                                : chain_full(domain_dir, tracking.record->set_id);
        return choice;
    }
    // By content: an inc on the previous set, a diff on its chain's full.
    std::string why_not;
    std::string base = content_candidate(tracking, domain_dir, manifest, why_not);
    if (!base.empty() && requested == Level::diff) {
        try {
            base = chain_full(domain_dir, base);
        } catch (const util::Error& error) {
            why_not = "the chain of the set " + base + " cannot be read: " + error.what();
            base.clear();
        }
    }
    auto sums = std::make_shared<std::map<std::string, image::BlockSums>>();
    if (!base.empty())
        why_not = unusable_base(domain_dir, base, manifest, full_every, *sums);
    if (!base.empty() && why_not.empty()) {
        choice.parent = base;
        choice.by_content = true;
        choice.parent_sums = std::move(sums);
        choice.reason = std::string(to_string(requested)) + " asked for, " + to_string(requested) +
                        " by content on the set " + base +
                        " taken (the whole disk read, the blocks that differ written): " + broken;
        return choice;
    }
    choice.level = Level::full;
    choice.reason = asked + broken + "; not by content either: " + why_not;
    return choice;
}

BlockSumsByDisk parent_block_sums(const std::string& set_dir, const xml::Manifest& manifest,
                                  const util::Log& log) {
    auto sums = std::make_shared<std::map<std::string, image::BlockSums>>();
    try {
        const store::BackupSet parent = store::read_set(set_dir);
        for (const xml::ManifestDisk& disk : manifest.disks) {
            const xml::ManifestDisk* held = parent.manifest->find_disk(disk.target);
            try {
                if (!held)
                    throw util::InputError("the set holds no disk " + quoted(disk.target));
                sums->emplace(disk.target, store::read_block_sums(parent.path, *held));
            } catch (const util::InputError& error) {
                log.debug("disk " + quoted(disk.target) + ": no block sums for this set (" + error.what() +
                          "); a later inc by content cannot compare with it");
            }
        }
    } catch (const util::Error& error) {
        log.debug(std::string("no block sums for this set: ") + error.what());
    }
    return sums;
}

void record_level(xml::Manifest& manifest, const LevelChoice& choice) {
    manifest.level = to_string(choice.level);
    manifest.parent = choice.parent;
    manifest.level_reason = choice.reason;
    manifest.by_content = choice.by_content;
}

} // namespace virtsnap::job
