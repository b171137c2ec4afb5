#include "job/synthetic_full.hpp"

#include "copy/disk_copy.hpp"
#include "copy/output_files.hpp"
#include "image/content_hash.hpp"
#include "store/backup_set.hpp"
#include "store/durable_file.hpp"
#include "store/retention.hpp"
#include "store/set_chain.hpp"
#include "store/set_images.hpp"
#include "store/set_layout.hpp"
#include "store/set_pin.hpp"
#include "store/set_replacement.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/joined_thread.hpp"
#include "util/path.hpp"
#include "util/pause_point.hpp"
#include "util/phase_times.hpp"
#include "verify/backup_verification.hpp"
#include "verify/checksum_check.hpp"
#include "verify/image_compare.hpp"

#include <algorithm>
#include <cerrno>
#include <exception>
#include <optional>
#include <sys/stat.h>

namespace virtsnap::job {

using util::quoted;

namespace {

// The work directory, made afresh; whatever it holds is removed on every
// path: the unfinished full before the swap, the old set's content after
// it (a SIGKILL leaves it to finish_synthetic_fulls).
class WorkDirectory {
  public:
    explicit WorkDirectory(std::string path) : path_(std::move(path)) {
        if (::mkdir(path_.c_str(), 0700) != 0)
            throw util::SystemError("cannot create the work directory " + quoted(path_), errno);
    }
    ~WorkDirectory() {
        try {
            store::remove_set(path_);
        } catch (const std::exception&) {
            // Never a set id, never restored: the next backup of the domain
            // removes it.
        }
    }
    WorkDirectory(const WorkDirectory&) = delete;
    WorkDirectory& operator=(const WorkDirectory&) = delete;

    const std::string& path() const noexcept { return path_; }

  private:
    std::string path_;
};

// "F..K": the sets of a chain, its full first.
std::string span_of(const store::DiskChain& chain) {
    return chain.sets.back().id + ".." + chain.sets.front().id;
}

// The disk at the chain's point, flattened into one qcow2 image in outputs
// (unpublished), read as restore reads a chain. Every layer is checked
// against its own set's checksums, beside the copy (which reads the same
// files, once from the storage, mostly): the new image gets checksums of
// its own, which would bless damage read now, so a mismatch fails it.
xml::DiskBackup flatten(const store::DiskChain& chain, const SyntheticFullSettings& settings,
                        copy::OutputFiles& outputs, const util::Log& log) {
    const std::string disk = "disk " + quoted(chain.target);
    std::string damage;
    std::exception_ptr check_failed;
    auto check_layers = [&] {
        try {
            for (std::size_t k = 0; k < chain.sets.size() && damage.empty(); ++k) {
                const xml::DiskBackup seen = chain.backup(k);
                for (std::size_t i = 0; i < chain.backups[k].files.size(); ++i) {
                    const verify::CheckOutcome outcome =
                        verify::check_checksums(chain.sets[k].path, seen, i, chain.virtual_size);
                    if (!outcome.ok) {
                        damage = "in set " + chain.sets[k].id + ": " + outcome.detail;
                        break;
                    }
                }
            }
        } catch (...) {
            check_failed = std::current_exception();
        }
    };

    copy::DiskCopyRequest request;
    request.target = chain.target;
    request.virtual_size = chain.virtual_size;
    request.origin = image::ImageOrigin::backup_set;
    const std::vector<std::string> paths = chain.paths();
    for (std::size_t i = 0; i < paths.size(); ++i)
        request.chain.push_back({paths[i], i == 0 ? chain.backups.front().format : "qcow2"});
    copy::CopySettings copy_settings;
    copy_settings.format = "qcow2";
    copy_settings.compress = settings.compress;
    // The options of the disk's own image, as a full of it records them
    // (and a restore recreates them).
    copy_settings.qcow2_options = chain.backups.front().source_options;
    // Block sums beside the image, as every full keeps them (a later inc by
    // content compares with them).
    copy_settings.block_sums = true;
    xml::DiskBackup written;
    {
        const util::JoinedThread checking(check_layers);
        written = copy::copy_disk(request, copy_settings, outputs, log);
    }
    if (check_failed)
        std::rethrow_exception(check_failed);
    if (!damage.empty())
        throw util::VerificationMismatch(disk + " " + damage);
    log.info(disk + ": every layer of sets " + span_of(chain) + " matches its checksums");
    written.source_options = chain.backups.front().source_options;
    return written;
}

// qemu-img compare of the new image with the chain it was made of.
verify::CheckOutcome compare_with_chain(const store::DiskChain& chain, const std::string& image) {
    verify::CheckOutcome outcome =
        verify::compare_with_source(chain.paths().front(), chain.backups.front().format, image, "qcow2");
    const std::string chain_name = "the chain of sets " + span_of(chain) + " it was made of";
    if (outcome.ok)
        return {true, "identical to " + chain_name};
    const std::string frozen = "the frozen image";
    const std::size_t at = outcome.detail.find(frozen);
    if (at != std::string::npos)
        outcome.detail.replace(at, frozen.size(), chain_name);
    return outcome;
}

// The same kind of error, its message after prefix; a refusal is a plain
// failure here (exit 1, not 5: the run changed things, it made a set).
[[noreturn]] void rethrow_with(const util::Error& error, const std::string& prefix) {
    const std::string message = prefix + error.what();
    if (dynamic_cast<const util::Interrupted*>(&error))
        throw util::Interrupted(message);
    if (dynamic_cast<const util::VerificationMismatch*>(&error))
        throw util::VerificationMismatch(message);
    if (dynamic_cast<const util::InputError*>(&error))
        throw util::InputError(message);
    throw util::Error(message);
}

std::vector<const xml::ManifestDisk*> every_disk(const xml::Manifest& manifest) {
    std::vector<const xml::ManifestDisk*> disks;
    for (const xml::ManifestDisk& disk : manifest.disks)
        disks.push_back(&disk);
    return disks;
}

} // namespace

bool make_synthetic_full(const store::DomainLock& /*lock*/, const std::string& set_dir,
                         const SyntheticFullSettings& settings, const util::Log& log) {
    const store::BackupSet set = store::read_set(set_dir);
    const xml::Manifest& manifest = *set.manifest;
    const std::string it = "backup set " + quoted(set_dir);
    if (manifest.snapshot_id != set.id)
        throw util::InputError(it + " is damaged: its manifest records the set " +
                               quoted(manifest.snapshot_id));
    if (!manifest.on_parent())
        throw util::RefusedError(it + " is neither an inc nor a diff: it needs no set below it already");
    if (manifest.disks.empty())
        throw util::RefusedError(it + " holds no disk");
    // Its chain, every image's header checked before QEMU opens it.
    const std::vector<store::DiskChain> chains = store::check_set_images(set, every_disk(manifest));
    for (const store::DiskChain& chain : chains)
        if (chain.backups.front().chunk_size != image::default_chunk_size)
            throw util::RefusedError(it + " records the checksums of disk " + quoted(chain.target) +
                                     " in chunks of " + std::to_string(chain.backups.front().chunk_size) +
                                     " bytes; a full made now would record chunks of " +
                                     std::to_string(image::default_chunk_size) +
                                     ", which the sets above it could not hang on");
    const std::string span = span_of(chains.front());

    xml::Manifest full = manifest;
    full.level = "full";
    full.parent.clear();
    full.by_content = false;
    full.level_reason = "synthetic full: merged from sets " + span + " (--synthetic-full)";

    const std::string domain_dir = util::dirname_of(set_dir);
    WorkDirectory work(domain_dir + "/" + store::synthetic_work_name(set.id));
    util::pause_point("synthetic-started");
    {
        copy::OutputFiles outputs(work.path());
        for (std::size_t i = 0; i < chains.size(); ++i) {
            util::throw_if_interrupted();
            full.disks[i].backup = flatten(chains[i], settings, outputs, log);
            full.disks[i].verifications.clear();
        }
        outputs.publish_all(false);
    }
    util::pause_point("synthetic-copied");

    // Verified as virtsnap-backup --verify-with source verifies a new set:
    // each image compared with what it was copied from (the chain), its
    // structure checked by qemu-img check, and every header as the manifest
    // records it.
    verify::Mismatches found;
    verify::VerifySettings checks;
    checks.dir = work.path();
    for (std::size_t i = 0; i < full.disks.size(); ++i) {
        xml::ManifestDisk& disk = full.disks[i];
        const verify::CheckOutcome outcome =
            compare_with_chain(chains[i], work.path() + "/" + disk.backup->files.front().name);
        disk.verifications.push_back({"source", outcome.ok ? "ok" : "mismatch", outcome.detail});
        if (outcome.ok)
            log.info(disk.target + ": source: " + outcome.detail);
        else
            found.push_back("disk " + quoted(disk.target) + ": " + outcome.detail);
        verify::verify_disk(full, i, checks, found, log);
    }
    verify::throw_if_mismatched(found);

    for (const char* name : {store::set_domain_xml_file, store::set_live_domain_xml_file})
        if (std::optional<std::string> text = store::read_set_definition(set, name))
            store::write_durable(work.path() + "/" + name, *text);
    store::write_durable(work.path() + "/" + store::set_manifest_file, xml::to_xml(full));
    store::mark_complete(work.path(), set.id);
    // Read back as every reader will: the manifest parses, each image names
    // what it records.
    const store::BackupSet built = store::read_set(work.path());
    store::check_set_images(built, every_disk(*built.manifest));
    util::pause_point("synthetic-complete");

    // A reader that pinned the set while it was being rebuilt keeps it:
    // the swap would change the files under it by name.
    std::string old_content;
    try {
        const util::UniqueFd swapping = store::lock_set_exclusively(set_dir);
        old_content = store::swap_in_replacement(domain_dir, set.id, settings.exchange);
    } catch (const util::RefusedError& error) {
        log.info(std::string(error.what()) + "; it is made a full at the next backup");
        return false;
    }
    log.info(it + " is now a full of its own, of the same point (merged from sets " + span + ")");
    util::pause_point("synthetic-swapped");
    try {
        store::remove_set(old_content);
    } catch (const util::Error& error) {
        log.warn(std::string(error.what()) + "; the next backup of the domain removes it");
    }
    return true;
}

namespace {

// The first set of set's chain (set, its parent, ...) that a reader pins;
// empty when none is.
std::string pinned_in_chain(const std::vector<store::BackupSet>& sets, const store::BackupSet& set) {
    const store::BackupSet* at = &set;
    for (std::size_t steps = 0; at && steps <= sets.size(); ++steps) {
        if (store::set_pinned(at->path))
            return at->path;
        if (!at->manifest || !at->manifest->on_parent())
            break;
        const std::string parent = at->manifest->parent;
        const auto found =
            std::find_if(sets.begin(), sets.end(), [&](const store::BackupSet& s) { return s.id == parent; });
        at = found == sets.end() ? nullptr : &*found;
    }
    return "";
}

} // namespace

std::string merge_oldest_kept(const store::DomainLock& lock, const std::string& domain_dir, unsigned keep,
                              const std::string& just_made, const std::vector<std::string>& pinned,
                              const SyntheticFullSettings& settings, const util::Log& log) {
    const std::vector<store::BackupSet> sets = store::list_domain_sets(domain_dir);
    const store::MergeChoice choice = store::set_to_merge(sets, keep, just_made, pinned);
    if (!choice.set) {
        if (!choice.why_not.empty())
            log.info("--synthetic-full: " + choice.why_not);
        return "";
    }
    // A set a reader pins (virtsnap-mount, an instant restore) stays, and
    // so do the sets below it: replacing it now would free nothing.
    if (const std::string in_use = pinned_in_chain(sets, *choice.set); !in_use.empty()) {
        log.info("--synthetic-full: backup set " + choice.set->id +
                 " is not made a full now: " + store::pinned_reason(in_use));
        return "";
    }
    std::string id = choice.set->id;
    log.info("--synthetic-full: making backup set " + id +
             " a full of its own, so that --keep no longer keeps the sets below it");
    try {
        const util::PhaseTimer making("synthetic full");
        if (!make_synthetic_full(lock, choice.set->path, settings, log))
            return "";
    } catch (const util::Error& error) {
        rethrow_with(error, "--synthetic-full left backup set " + quoted(choice.set->path) + " as it was" +
                                (just_made.empty() ? "" : " (the new set " + just_made + " is complete)") +
                                ": ");
    }
    return id;
}

void finish_synthetic_fulls(const store::DomainLock& /*lock*/, const std::string& domain_dir,
                            const util::Log& log) {
    const store::ReplacementRepair repair = store::finish_replacements(domain_dir);
    for (const std::string& line : repair.done)
        log.info(line);
    for (const std::string& line : repair.left)
        log.warn(line);
}

} // namespace virtsnap::job
