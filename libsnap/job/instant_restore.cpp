#include "job/instant_restore.hpp"

#include "copy/disk_copy.hpp"
#include "image/backed_image.hpp"
#include "store/durable_file.hpp"
#include "store/file_owner.hpp"
#include "store/instant_output.hpp"
#include "store/set_images.hpp"
#include "store/set_layout.hpp"
#include "store/set_pin.hpp"
#include "util/background_priority.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/joined_thread.hpp"
#include "util/pause_point.hpp"
#include "verify/chain_checksums.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <exception>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::job {

using util::quoted;

namespace {

std::string real(const std::string& path) {
    char buffer[PATH_MAX];
    if (!::realpath(path.c_str(), buffer))
        throw util::SystemError("cannot resolve " + quoted(path), errno);
    return buffer;
}

// What was made before the domain started, undone when a later step fails:
// nothing of the restore is left but an error.
class Rollback {
  public:
    Rollback(const std::string& state_dir, std::string name)
        : state_dir_(state_dir), name_(std::move(name)) {}
    ~Rollback() {
        if (done_)
            return;
        if (domain_)
            virDomainUndefine(domain_->get());
        // A start that failed may leave the sets' files with QEMU's user
        // (libvirt gives back only the images it writes to).
        try {
            store::restore_owners(owners_);
        } catch (const util::Error&) {}
        for (const std::string& path : files_)
            ::unlink(path.c_str());
        for (const std::string& dir : searchable_) {
            try {
                store::revoke_search(dir);
            } catch (const util::Error&) {}
        }
        if (record_) {
            try {
                store::remove_instant_record(state_dir_, name_);
            } catch (const util::Error&) {}
        }
    }
    Rollback(const Rollback&) = delete;
    Rollback& operator=(const Rollback&) = delete;

    void file(const std::string& path) { files_.push_back(path); }
    void searchable(const std::string& dir) { searchable_.push_back(dir); }
    void record() { record_ = true; }
    void owners(std::vector<store::FileOwner> owners) { owners_ = std::move(owners); }
    void domain(const virt::Domain* domain) { domain_ = domain; }
    void keep() { done_ = true; }

  private:
    const std::string& state_dir_;
    std::string name_;
    std::vector<std::string> files_;
    std::vector<std::string> searchable_;
    std::vector<store::FileOwner> owners_;
    bool record_ = false;
    const virt::Domain* domain_ = nullptr;
    bool done_ = false;
};

} // namespace

void instant_restore(const store::BackupSet& set, const InstantSettings& settings, const util::Log& log) {
    const std::string& name = settings.restore.define_name;
    const std::vector<const xml::ManifestDisk*> disks = chosen_disks(set, {});
    const virt::Connection conn = virt::Connection::open(settings.restore.connect_uri);
    refuse_defined_name(conn, name);
    if (store::load_instant_record(settings.state_dir, name))
        throw util::RefusedError("an instant restore of domain " + quoted(name) + " is recorded in " +
                                 quoted(settings.state_dir) + " ('virtsnap-restore --finish " + name +
                                 "' completes it); nothing was restored");
    // Pinned before it is checked, so what is checked stays (a set
    // replaced since it was read is refused).
    const store::SetPin pin = store::pin_chain(set.path, *set.manifest);
    // Every image checked before QEMU opens it, an incremental set's
    // through every set below it.
    const std::vector<store::DiskChain> chains = store::check_set_images(set, disks);
    store::InstantRecord record;
    record.domain_name = name;
    for (const store::DiskChain& chain : chains)
        for (const store::BackupSet& member : chain.sets) {
            const std::string dir = real(member.path);
            if (std::find(record.set_dirs.begin(), record.set_dirs.end(), dir) == record.set_dirs.end())
                record.set_dirs.push_back(dir);
        }
    store::refuse_output_on_set_storage(settings.restore.output_dir, record.set_dirs);
    // Other instant restores under way, of these sets or others.
    const std::vector<store::InstantRecord> others = store::instant_records(settings.state_dir);

    struct stat before {};
    const bool dir_existed = ::lstat(settings.restore.output_dir.c_str(), &before) == 0;
    const std::string dir = copy::prepare_backup_directory(settings.restore.output_dir, 0711);
    record.output_dir = real(dir);
    std::vector<RestoredDisk> images;
    for (size_t i = 0; i < disks.size(); ++i) {
        const std::string path =
            record.output_dir + "/" + store::disk_file_names(disks[i]->target, "qcow2", 1).front();
        const std::string backing = real(chains[i].paths().front());
        record.disks.push_back({disks[i]->target, path, backing, chains[i].backup().format});
        images.push_back({disks[i]->target, path, "qcow2"});
        // QEMU opens every file of the chain; libvirt hands each to its user.
        // Another instant restore of the set may have handed them over
        // already: what it found is what they go back to.
        for (const std::string& file : chains[i].paths()) {
            const std::string set_file = real(file);
            record.owners.push_back(
                store::owner_elsewhere(others, name, set_file).value_or(store::file_owner(set_file)));
        }
    }
    // What --finish and retention will read must be what is meant: a path
    // the record cannot carry (a control character, bytes that are not
    // UTF-8) would leave the sets unprotected once this process is gone.
    try {
        if (store::to_xml(store::parse_instant_record(store::to_xml(record), "the record")) !=
            store::to_xml(record))
            throw util::InputError("it reads back otherwise");
    } catch (const util::Error& error) {
        if (!dir_existed)
            ::rmdir(dir.c_str());
        throw util::RefusedError("the record of this restore cannot hold its paths (" +
                                 std::string(error.what()) +
                                 "); choose an output directory with a plainer name; nothing was restored");
    }
    const std::string xml_path = record.output_dir + "/" + store::set_domain_xml_file;
    for (const std::string& path : [&] {
             std::vector<std::string> paths{xml_path};
             for (const RestoredDisk& image : images)
                 paths.push_back(image.path);
             return paths;
         }()) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) == 0)
            throw util::RefusedError(quoted(path) + " already exists; nothing was restored");
    }
    const std::optional<std::string> definition =
        restored_definition(set, images, name, &conn, record.output_dir, log);
    if (!definition)
        throw util::RefusedError("backup set " + quoted(set.path) +
                                 " holds no domain definition, so --define has nothing to define; nothing "
                                 "was restored");

    Rollback rollback(settings.state_dir, name);
    for (const store::InstantRecord::Disk& disk : record.disks) {
        image::create_backed_image(disk.image, disk.backing, disk.backing_format);
        rollback.file(disk.image);
    }
    // QEMU's user must reach the images through the sets' directories and
    // those above them (a backup makes its directories 0700): search
    // permission, recorded first so that --finish takes it away again.
    // Another instant restore of these sets may have granted it already:
    // then this one shares it, so that the last to end takes it away.
    for (const std::string& set_dir : record.set_dirs)
        for (std::string up = set_dir; up.size() > 1;
             up = up.substr(0, std::max<std::size_t>(up.rfind('/'), 1))) {
            struct stat st {};
            if (::stat(up.c_str(), &st) == 0 &&
                ((st.st_mode & S_IXOTH) == 0 || store::searchable_elsewhere(others, name, up)) &&
                std::find(record.searchable.begin(), record.searchable.end(), up) == record.searchable.end())
                record.searchable.push_back(up);
        }
    // Durable before the domain can read a set: from here on, whatever
    // happens to this process, the record names what --finish completes.
    store::save_instant_record(settings.state_dir, record);
    rollback.record();
    rollback.owners(store::owners_to_restore(others, record));
    // Undone on failure only where this restore granted it, not where it
    // shares another's.
    for (const std::string& searchable : record.searchable)
        if (store::grant_search(searchable))
            rollback.searchable(searchable);
    rollback.file(xml_path);
    store::write_durable(xml_path, *definition);
    util::throw_if_interrupted();
    const auto start = std::chrono::steady_clock::now();
    const virt::Domain domain = conn.define(*definition);
    rollback.domain(&domain);
    domain.start();
    rollback.keep();
    log.info("domain " + quoted(name) + " started on backup set " + quoted(set.path) + " in " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count()) +
             " ms; pulling its data into " + quoted(record.output_dir));
    util::pause_point("instant-started");

    // The set's checksums, read beside the pulls (the same files, mostly
    // once from the storage); a mismatch is reported at the end. The guest
    // booting meanwhile comes first: the check runs at the lowest CPU and
    // I/O priority, and only the end waits for it.
    std::string damage;
    std::exception_ptr check_failed;
    std::optional<util::JoinedThread> checking;
    checking.emplace([&] {
        util::lower_thread_priority();
        try {
            for (const store::DiskChain& chain : chains) {
                std::string found = verify::chain_damage(chain);
                if (!found.empty()) {
                    damage = "disk " + quoted(chain.target) + ": " + found;
                    break;
                }
            }
        } catch (...) {
            check_failed = std::current_exception();
        }
    });
    complete_instant(record, conn, settings, log);
    checking.reset();
    if (check_failed) {
        try {
            std::rethrow_exception(check_failed);
        } catch (const util::Interrupted&) {
            throw util::Interrupted("interrupted while checking the checksums of backup set " +
                                    quoted(set.path) + "; the restore itself is complete ('virtsnap-verify " +
                                    set.path + "' checks the set)");
        }
    }
    if (!damage.empty())
        throw util::VerificationMismatch(
            "backup set " + quoted(set.path) + " does not match its checksums (" + damage + "); domain " +
            quoted(name) + " RUNS ON DATA FROM A DAMAGED SET: its images in " + quoted(record.output_dir) +
            " stand alone now; check the guest, or shut it off and restore another set");
    log.info("backup set " + quoted(set.path) + " matches its checksums");
}

} // namespace virtsnap::job
