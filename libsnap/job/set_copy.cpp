#include "copy/output_files.hpp"
#include "job/backup_paths.hpp"
#include "job/diff_ranges.hpp"
#include "util/error.hpp"
#include "verify/verify_queue.hpp"

namespace virtsnap::job {

HookEnvironment hook_environment(const BackupSettings& settings, const std::string& domain,
                                 const std::string& set_dir) {
    return {{"VIRTSNAP_DOMAIN", domain},
            {"VIRTSNAP_DEST", settings.dest},
            {"VIRTSNAP_SET_DIR", set_dir},
            {"VIRTSNAP_LEVEL", to_string(settings.level)}};
}

LevelChoice settle_level(const BackupSettings& settings, const TrackingState& tracking,
                         const SetDirectory& set, xml::Manifest& manifest, copy::CopySettings& copy,
                         const util::Log& log) {
    const std::string domain_dir = set.path().substr(0, set.path().find_last_of('/'));
    LevelChoice choice = choose_level(settings.level, tracking, domain_dir, manifest, settings.full_every);
    if (choice.level != Level::copy)
        check_record_covered(tracking, manifest);
    if (choice.level == Level::full && manifest.offline && !tracking.record)
        choice.reason += std::string(choice.reason.empty() ? "" : "; ") +
                         "the domain is shut off: its full starts no change record (the first full or inc "
                         "while it runs does)";
    record_level(manifest, choice);
    if (!choice.reason.empty())
        log.warn("domain " + util::quoted(manifest.domain_name) + ": " + choice.reason);
    // Every level set keeps its disks' block sums, for a later inc by content.
    copy.block_sums = choice.level != Level::copy;
    if (choice.level == Level::inc || choice.level == Level::diff) {
        copy.incremental_parent = choice.parent;
        copy.format = "qcow2";
        copy.keep_chain = false;
        copy.by_content = choice.by_content;
        copy.block_sums_below = choice.by_content
                                    ? choice.parent_sums
                                    : parent_block_sums(domain_dir + "/" + choice.parent, manifest, log);
    }
    if (choice.level == Level::diff && !choice.by_content)
        copy.changed_since_parent = changed_since_full(domain_dir, tracking.record->set_id, manifest);
    return choice;
}

Definitions read_definitions(const virt::Domain& domain) {
    Definitions d;
    if (domain.is_persistent())
        d.persistent = domain.inactive_xml_secure();
    if (domain.is_active())
        d.live = domain.xml();
    return d;
}

void copy_and_verify(xml::Manifest& manifest, copy::CopySettings copy_settings,
                     const BackupSettings& settings, const SetDirectory& set, const util::Log& log,
                     const std::function<void(std::size_t)>& done) {
    // The set is new and restorable only once its marker is written: each
    // disk's files can take their names as soon as they are complete.
    copy::OutputFiles outputs(set.path());
    copy_settings.publish_each_disk = true;
    if (!settings.verify) {
        copy_settings.copied = done;
        copy::copy_disks(manifest, copy_settings, outputs, log);
        return;
    }
    // The comparison reads each frozen image again: from the page cache,
    // where a copy through it leaves the image, rather than from the storage
    // (bench/backup at 6 GiB, the source read past the cache: 21 s against
    // the default's 9).
    copy_settings.source_read_again = settings.verification == Verification::source;
    verify::VerifySettings verify_settings;
    verify_settings.dir = set.path();
    verify_settings.source = settings.verification == Verification::source;
    verify_settings.qemu_checksums = settings.verification == Verification::qemu_checksums;
    verify_settings.source_for_kept_chains = verify_settings.qemu_checksums;
    // A disk whose verification never reads its frozen image again (the
    // checksums alone) lets it go as soon as it is copied: its overlay is
    // merged while the copy is verified, not after.
    auto reads_source = [&](size_t disk) {
        return verify::reads_source(manifest.disks.at(disk), verify_settings);
    };
    verify::VerifyQueue verifications(manifest, verify_settings, log, [&](size_t disk) {
        if (done && reads_source(disk))
            done(disk);
    });
    copy_settings.copied = [&](size_t disk) {
        if (done && !reads_source(disk))
            done(disk);
        verifications.push(disk);
    };
    // A failed check fails the set: the disks still to copy would be wasted.
    copy_settings.check = [&, check = copy_settings.check] {
        if (check)
            check();
        if (verifications.failed())
            throw util::Error("stopped: a copy failed its verification");
    };
    try {
        copy::copy_disks(manifest, copy_settings, outputs, log);
    } catch (const util::Error&) {
        // The verification's own error says more than the copy stopped for it.
        if (verifications.failed())
            verifications.finish();
        throw;
    }
    verifications.finish();
}

} // namespace virtsnap::job
