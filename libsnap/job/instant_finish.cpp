#include "job/instant_restore.hpp"

#include "image/qemu_img.hpp"
#include "store/file_owner.hpp"
#include "store/instant_output.hpp"
#include "store/set_pin.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/progress.hpp"
#include "util/subprocess.hpp"
#include "virt/block_pull.hpp"

#include "util/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <optional>
#include <unistd.h>

namespace virtsnap::job {

using util::quoted;

namespace {

// fsync through a descriptor of our own: the pages QEMU wrote reach the
// storage without the guest waiting for them.
void sync_file(const std::string& path) {
    util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0)
        throw util::SystemError("cannot write " + quoted(path) + " back to its storage", errno);
}

bool has_backing(const std::string& image) {
    const std::vector<image::ImageInfo> chain = image::query_image_chain(image, "qcow2");
    return chain.size() > 1 || !chain.front().backing_filename.empty();
}

std::string escaped(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '\'':
            out += "&apos;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

// A definition that still names a set's directory (libvirt writes the
// backing chain into the live one) would send the domain back to the set.
void refuse_set_references(const std::string& xml, const store::InstantRecord& record,
                           const std::string& what) {
    for (const std::string& dir : record.set_dirs)
        if (xml.find(dir + "/") != std::string::npos || xml.find(escaped(dir) + "/") != std::string::npos)
            throw util::Error(what + " of domain " + quoted(record.domain_name) + " still names backup set " +
                              quoted(dir) + "; the record " + "is kept: run 'virtsnap-restore --finish " +
                              record.domain_name + "' again once it does not");
}

std::optional<virt::Domain> find_domain(const virt::Connection& conn, const std::string& name) {
    try {
        return conn.lookup(name);
    } catch (const util::LibvirtError&) {
        return std::nullopt;
    }
}

void pull_online(const virt::Connection& conn, const virt::Domain& domain, const store::InstantRecord& record,
                 const InstantSettings& settings, const util::Log& log) {
    virt::BlockJobEvents events(conn, domain);
    std::vector<std::string> targets;
    for (const store::InstantRecord::Disk& disk : record.disks) {
        if (virt::pull_running(domain, disk.target)) {
            log.info("disk " + disk.target + ": waiting for the pull that runs");
        } else if (has_backing(disk.image)) {
            virt::start_pull(domain, disk.target, settings.bandwidth_mib);
            log.debug("disk " + disk.target + ": pull started");
        } else {
            continue;
        }
        targets.push_back(disk.target);
    }
    if (targets.empty())
        return;
    util::Progress progress(log, "pulling the data of domain " + record.domain_name, true);
    virt::wait_for_pulls(domain, events, targets, progress);
    progress.finish("the data of every disk of domain " + record.domain_name + " is in its own image");
    // The data first, from here, while the guest runs; then QEMU's own
    // caches, in a pause that little is left for.
    for (const store::InstantRecord::Disk& disk : record.disks)
        sync_file(disk.image);
    if (virt::flush_by_pause(domain))
        log.debug("domain " + record.domain_name + " paused and resumed: QEMU wrote its images back");
    else
        log.warn("domain " + quoted(record.domain_name) +
                 " is not running: its images are written back when QEMU resumes or stops it");
}

void rebase_offline(const store::InstantRecord& record, const util::Log& log) {
    for (const store::InstantRecord::Disk& disk : record.disks) {
        if (!has_backing(disk.image))
            continue;
        log.info("disk " + disk.target + ": domain " + quoted(record.domain_name) +
                 " is not running; copying the backing data into " + quoted(disk.image));
        // A safe rebase onto nothing copies every cluster the image does not
        // hold from its chain; the header changes last, so a rebase killed
        // midway leaves a consistent image that the next --finish redoes.
        util::run_checked({"qemu-img", "rebase", "-q", "-f", "qcow2", "-b", "", disk.image});
        util::throw_if_interrupted();
    }
}

} // namespace

void complete_instant(const store::InstantRecord& record, const virt::Connection& conn,
                      const InstantSettings& settings, const util::Log& log) {
    for (const store::InstantRecord::Disk& disk : record.disks)
        store::check_instant_image(disk);
    std::optional<virt::Domain> domain = find_domain(conn, record.domain_name);
    try {
        if (domain && domain->is_active())
            pull_online(conn, *domain, record, settings, log);
        else
            rebase_offline(record, log);
    } catch (const util::Interrupted& interrupted) {
        throw util::Interrupted(std::string(interrupted.what()) + "; domain " + quoted(record.domain_name) +
                                " runs on, its block jobs left to QEMU; 'virtsnap-restore --finish " +
                                record.domain_name + "' completes the restore");
    } catch (const util::RefusedError&) {
        throw;
    } catch (const util::Error& error) {
        throw util::Error(std::string(error.what()) + "; the record is kept: 'virtsnap-restore --finish " +
                          record.domain_name + "' retries");
    }
    for (const store::InstantRecord::Disk& disk : record.disks)
        if (has_backing(disk.image))
            throw util::Error(
                "image " + quoted(disk.image) + " of domain " + quoted(record.domain_name) +
                " still has a backing file; the record is kept: run 'virtsnap-restore --finish " +
                record.domain_name + "' again");
    // The domain may have been started or stopped meanwhile: read it again.
    domain = find_domain(conn, record.domain_name);
    if (domain) {
        refuse_set_references(domain->xml(), record, "the live definition");
        if (domain->is_persistent())
            refuse_set_references(domain->inactive_xml(), record, "the persistent definition");
    }
    // Files another instant restore still runs on keep QEMU's user: the
    // last restore to end gives them back.
    const std::vector<store::InstantRecord> others = store::instant_records(settings.state_dir);
    for (const std::string& path : store::restore_owners(store::owners_to_restore(others, record)))
        log.info("gave " + quoted(path) + " its owner and mode back");
    for (const std::string& dir : record.searchable) {
        if (store::searchable_elsewhere(others, record.domain_name, dir))
            continue; // another instant restore still needs it
        try {
            store::revoke_search(dir);
        } catch (const util::SystemError& error) {
            log.warn(std::string(error.what()) + "; its permissions stay as they are");
        }
    }
    store::remove_instant_record(settings.state_dir, record.domain_name);
    log.info("domain " + quoted(record.domain_name) + " runs on standalone images in " +
             quoted(record.output_dir) + "; its backup sets are no longer in use");
}

bool finish_instant(const std::string& name, const InstantSettings& settings, const util::Log& log) {
    std::optional<store::InstantRecord> record = store::load_instant_record(settings.state_dir, name);
    if (!record) {
        log.info("nothing to do: no instant restore of domain " + quoted(name) + " is recorded in " +
                 quoted(settings.state_dir));
        return false;
    }
    // The sets stay pinned while the data comes out of them. A set that is
    // gone cannot be pinned; the images then say whether they still need it.
    std::optional<store::SetPin> pin;
    try {
        pin.emplace(record->set_dirs);
    } catch (const util::SystemError& error) {
        log.warn(std::string(error.what()) + "; going on without pinning the sets");
    }
    const virt::Connection conn = virt::Connection::open(settings.restore.connect_uri);
    complete_instant(*record, conn, settings, log);
    return true;
}

} // namespace virtsnap::job
