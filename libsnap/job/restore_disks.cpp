#include "job/restore_disks.hpp"

#include "copy/disk_copy.hpp"
#include "copy/output_files.hpp"
#include "store/set_images.hpp"
#include "store/set_layout.hpp"
#include "store/set_pin.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/joined_thread.hpp"
#include "verify/chain_checksums.hpp"
#include "verify/checksum_check.hpp"
#include "virt/connection.hpp"
#include "virt/image_users.hpp"
#include "xml/disk_source_edit.hpp"
#include "xml/document.hpp"
#include "xml/domain_disks.hpp"
#include "xml/domain_identity.hpp"
#include "xml/restricted_definition.hpp"
#include "xml/snapshot_xml.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <sys/stat.h>

namespace virtsnap::job {

using util::quoted;

namespace {

// What a disk comes back as: --format, else the format the domain had
// (a raw disk stays raw, so its definition's driver type stays right),
// else qcow2 for formats virtsnap does not write.
std::string restored_format(const xml::ManifestDisk& disk, const RestoreSettings& settings) {
    if (!settings.format.empty())
        return settings.format;
    // A tracked domain's frozen image is the overlay its last full or inc
    // kept; the disk's own image is the one below it.
    const std::string& own =
        xml::looks_like_overlay(disk.frozen) && !disk.chain.empty() ? disk.chain.front().format : disk.format;
    return own == "raw" ? "raw" : "qcow2";
}

std::string image_name(const xml::ManifestDisk& disk, const RestoreSettings& settings) {
    return store::disk_file_names(disk.target, restored_format(disk, settings), 1).front();
}

// The first of targets that the domain XML text has no disk for; empty
// when it has all.
std::string first_missing(const std::string& text, const std::string& what,
                          const std::vector<std::string>& targets) {
    const std::vector<xml::Disk> held = xml::parse_domain_disks(xml::Document::parse(text, what));
    for (const std::string& target : targets)
        if (std::none_of(held.begin(), held.end(), [&](const xml::Disk& d) { return d.target == target; }))
            return target;
    return "";
}

// The definition saved with the set: the persistent one (the live one of a
// transient domain), unless it lacks a disk being restored that the live
// one holds: a disk attached to the running domain only (virsh attach-disk
// --live) is backed up, and only the live definition describes it. log:
// where to say that the live one is used; null: nowhere.
std::optional<std::string> saved_definition(const store::BackupSet& set,
                                            const std::vector<std::string>& targets, const util::Log* log) {
    std::optional<std::string> persistent = store::read_set_definition(set, store::set_domain_xml_file);
    std::optional<std::string> live = store::read_set_definition(set, store::set_live_domain_xml_file);
    if (!persistent || !live)
        return persistent ? persistent : live;
    const std::string where = quoted(set.path + "/" + store::set_domain_xml_file);
    const std::string missing = first_missing(*persistent, "saved definition " + where, targets);
    if (missing.empty() ||
        !first_missing(*live, "saved definition " + quoted(set.path + "/" + store::set_live_domain_xml_file),
                       targets)
             .empty())
        return persistent;
    if (log)
        log->warn("the saved persistent definition " + where + " has no disk " + quoted(missing) +
                  " (attached to the running domain only); the saved live definition is used");
    return live;
}

// Refuses, before anything is written, to replace a file without --force,
// and a domain's image unless that domain is shut off and --force given.
void check_outputs(const std::vector<std::string>& outputs, const RestoreSettings& settings,
                   const std::optional<virt::Connection>& conn) {
    std::optional<virt::ImageUsers> users;
    if (conn)
        users = virt::ImageUsers::of(*conn);
    for (const std::string& path : outputs) {
        const virt::ImageUser* user = users ? users->find(path) : nullptr;
        if (user && user->running)
            throw util::RefusedError(quoted(path) + " is an image of running domain " + quoted(user->domain) +
                                     "; shut it off first; nothing was restored");
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0)
            continue;
        if (!S_ISREG(st.st_mode))
            throw util::RefusedError(quoted(path) + " is in the way and not a file; nothing was restored");
        if (!settings.force)
            throw util::RefusedError(
                quoted(path) + " already exists" +
                (user ? " (an image of domain " + quoted(user->domain) + ")" : std::string()) +
                "; nothing was restored (--force replaces it)");
        if (!conn)
            throw util::RefusedError("cannot tell whether a domain uses " + quoted(path) +
                                     " (libvirt is unreachable); nothing was restored");
    }
}

// The boot files domains on this host already use: the ones a restored
// definition may keep.
std::set<std::string> trusted_boot_files(const virt::Connection& conn) {
    std::set<std::string> files;
    for (const std::string& name : conn.domain_names()) {
        const virt::Domain domain = conn.lookup(name);
        for (const std::string& file :
             xml::boot_files_of(domain.xml(), "definition of domain " + quoted(name)))
            files.insert(file);
    }
    return files;
}

} // namespace

void refuse_defined_name(const virt::Connection& conn, const std::string& name) {
    bool exists = true;
    try {
        conn.lookup(name);
    } catch (const util::LibvirtError&) {
        exists = false;
    }
    if (exists)
        throw util::RefusedError("domain " + quoted(name) +
                                 " already exists; nothing was restored (choose another --define name)");
}

std::optional<std::string> restored_definition(const store::BackupSet& set,
                                               const std::vector<RestoredDisk>& images,
                                               const std::string& define_name, const virt::Connection* conn,
                                               const std::string& dir, const util::Log& log) {
    std::vector<std::string> targets;
    targets.reserve(images.size());
    for (const RestoredDisk& image : images)
        targets.push_back(image.target);
    std::optional<std::string> definition = saved_definition(set, targets, &log);
    if (!definition)
        return definition;
    xml::DefinitionLimits limits;
    limits.files_dir = dir;
    for (const RestoredDisk& image : images) {
        limits.disks[image.target] = {image.path, image.format};
        *definition = xml::with_disk_source(*definition, image.target, "file", image.path, image.format,
                                            "the saved definition");
    }
    if (define_name.empty())
        return definition;
    *definition = xml::as_new_domain(*definition, define_name, "the saved definition");
    if (conn)
        limits.trusted_boot_files = trusted_boot_files(*conn);
    xml::RestrictedDefinition restricted =
        xml::restrict_definition(*definition, limits, "the saved definition");
    for (const std::string& item : restricted.left_out)
        log.warn("left out of domain " + quoted(define_name) + ": " + item);
    return restricted.xml;
}

void rebuild_disk(const store::DiskChain& chain, const std::string& format, copy::OutputFiles& outputs,
                  const util::Log& log) {
    const xml::DiskBackup whole = chain.backup();
    const std::string label =
        "disk " + quoted(chain.target) + " of backup set " + quoted(chain.sets.front().path);
    copy::DiskCopyRequest request;
    request.target = chain.target;
    request.virtual_size = chain.virtual_size;
    request.origin = image::ImageOrigin::backup_set;
    const std::vector<std::string> paths = chain.paths();
    for (size_t i = 0; i < paths.size(); ++i)
        request.chain.push_back({paths[i], i == 0 ? whole.format : "qcow2"});

    // Each set's files against its own manifest (chain_damage). It runs
    // beside the copy, which reads the same files (once from the storage,
    // mostly); the images are published only once every check has passed.
    std::string damage;
    std::exception_ptr check_failed;
    auto check_layers = [&] {
        try {
            damage = verify::chain_damage(chain);
        } catch (...) {
            check_failed = std::current_exception();
        }
    };
    std::optional<util::JoinedThread> checking;
    if (!whole.flattened)
        checking.emplace(check_layers);

    copy::CopySettings settings;
    settings.format = format;
    if (format == "qcow2")
        settings.qcow2_options = chain.backups.front().source_options;
    // A chain's copy is judged by its layers' checks; a flattened one by
    // the checksums of what it writes.
    settings.checksums = whole.flattened;
    xml::DiskBackup written = copy::copy_disk(request, settings, outputs, log);
    if (checking) {
        checking.reset();
        if (check_failed)
            std::rethrow_exception(check_failed);
        if (!damage.empty())
            throw util::VerificationMismatch(label + ": " + damage + "; nothing was restored");
    }

    if (whole.flattened) {
        verify::CheckOutcome outcome =
            verify::compare_checksums(whole.files.front(), written.files.front(), whole.chunk_size);
        if (!outcome.ok)
            throw util::VerificationMismatch(label + ": " + outcome.detail + "; nothing was restored");
    }
}

std::vector<const xml::ManifestDisk*> chosen_disks(const store::BackupSet& set,
                                                   const std::vector<std::string>& targets) {
    std::vector<const xml::ManifestDisk*> chosen;
    std::string held;
    for (const xml::ManifestDisk& disk : set.manifest->disks)
        held += (held.empty() ? "" : ", ") + disk.target;
    if (targets.empty()) {
        for (const xml::ManifestDisk& disk : set.manifest->disks)
            chosen.push_back(&disk);
        return chosen;
    }
    for (const std::string& target : targets) {
        const xml::ManifestDisk* disk = set.manifest->find_disk(target);
        if (!disk)
            throw util::InputError("backup set " + quoted(set.path) + " has no disk " + quoted(target) +
                                   " (it holds " + held + ")");
        chosen.push_back(disk);
    }
    return chosen;
}

std::vector<std::string> restore_disks(const store::BackupSet& set, const RestoreSettings& settings,
                                       const util::Log& log) {
    const std::vector<const xml::ManifestDisk*> disks = chosen_disks(set, settings.disks);
    const bool define = !settings.define_name.empty();
    // A new domain on some restored disks and some of the original's would
    // put two domains on one image (QEMU 2.1 has no image locking).
    if (define && disks.size() < set.manifest->disks.size())
        throw util::UsageError("--define makes a domain of every disk of the set; --disk restores only some "
                               "(restore them without --define)");
    // libvirt answers which domain uses an image; without it a restore into
    // new files is still safe, so it goes on.
    std::optional<virt::Connection> conn;
    try {
        conn.emplace(virt::Connection::open(settings.connect_uri));
    } catch (const util::Error& error) {
        if (define)
            throw;
        log.warn(std::string(error.what()) + "; going on without libvirt");
    }
    if (conn && define)
        refuse_defined_name(*conn, settings.define_name);
    // Pinned while read, so a backup's retention running meanwhile leaves
    // the restore point and the sets below it alone.
    const store::SetPin pinned = store::pin_chain(set.path, *set.manifest);
    // An incremental set's disks through every set below it, each image
    // checked before QEMU opens it.
    const std::vector<store::DiskChain> chains = store::check_set_images(set, disks);
    std::vector<std::string> targets;
    targets.reserve(disks.size());
    for (const xml::ManifestDisk* disk : disks)
        targets.push_back(disk->target);
    const std::optional<std::string> saved = saved_definition(set, targets, nullptr);
    // Before hours of copying, not after.
    if (saved)
        if (const std::string missing = first_missing(*saved, "the saved definition", targets);
            !missing.empty())
            throw util::InputError("the saved definition of backup set " + quoted(set.path) +
                                   " has no disk " + quoted(missing) + "; nothing was restored");
    if (define && !saved)
        throw util::RefusedError(
            "backup set " + quoted(set.path) +
            " holds no domain definition, so --define has nothing to define; nothing was restored");

    store::refuse_set_as_output(settings.output_dir, set, chains);
    // QEMU runs as its own user and must reach the images (libvirt hands it
    // the files themselves, which stay 0600): others may pass, not list.
    const std::string dir = copy::prepare_backup_directory(settings.output_dir, 0711);
    std::vector<std::string> names, paths, sources;
    for (size_t i = 0; i < disks.size(); ++i) {
        names.push_back(image_name(*disks[i], settings));
        for (const std::string& path : chains[i].paths())
            sources.push_back(path);
    }
    names.push_back(store::set_domain_xml_file);
    copy::refuse_sources_as_outputs(dir, names, sources);
    for (const std::string& name : names)
        paths.push_back(dir + "/" + name);
    check_outputs(paths, settings, conn);

    copy::OutputFiles outputs(dir);
    std::vector<RestoredDisk> images;
    for (size_t i = 0; i < disks.size(); ++i) {
        const xml::ManifestDisk* disk = disks[i];
        util::throw_if_interrupted();
        const std::string format = restored_format(*disk, settings);
        const std::string path = dir + "/" + image_name(*disk, settings);
        rebuild_disk(chains[i], format, outputs, log);
        log.info("disk " + disk->target + " restored to " + quoted(path) + " (checksums match the backup)");
        images.push_back({disk->target, path, format});
    }
    std::optional<std::string> definition =
        restored_definition(set, images, settings.define_name, conn ? &*conn : nullptr, dir, log);
    paths.pop_back(); // domain.xml, when there is one
    if (!definition) {
        log.warn("backup set " + quoted(set.path) +
                 " holds no domain definition; only the images were restored");
        outputs.publish_all(settings.force);
        return paths;
    }
    if (!define && disks.size() < set.manifest->disks.size()) {
        log.info("disks not restored keep their original sources in " +
                 quoted(dir + "/" + store::set_domain_xml_file));
    }
    outputs.create_with(store::set_domain_xml_file, *definition);
    outputs.publish_all(settings.force);
    paths.push_back(dir + "/" + store::set_domain_xml_file);
    if (define) {
        conn->define(*definition);
        log.info("defined domain " + quoted(settings.define_name) + " on the restored images");
    }
    return paths;
}

} // namespace virtsnap::job
