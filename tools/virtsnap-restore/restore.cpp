#include "restore.hpp"

#include "file_restore.hpp"
#include "image_users.hpp"
#include "options.hpp"
#include "rebuild_disk.hpp"

#include "copy/disk_copy.hpp"
#include "store/backup_set.hpp"
#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "xml/disk_source_edit.hpp"
#include "xml/domain_identity.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <unistd.h>

namespace virtsnap::restore {

using util::quoted;

namespace {

constexpr const char* tool_name = "virtsnap-restore";
constexpr const char* domain_xml_name = "domain.xml";

std::string absolute(const std::string& path) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved))
        throw util::InputError(quoted(path) + " is not a backup set: " + std::strerror(errno));
    return resolved;
}

std::vector<const xml::ManifestDisk*> chosen_disks(const store::BackupSet& set,
                                                   const std::vector<std::string>& wanted) {
    std::vector<const xml::ManifestDisk*> chosen;
    std::string held;
    for (const xml::ManifestDisk& disk : set.manifest->disks)
        held += (held.empty() ? "" : ", ") + disk.target;
    if (wanted.empty()) {
        for (const xml::ManifestDisk& disk : set.manifest->disks)
            chosen.push_back(&disk);
        return chosen;
    }
    for (const std::string& target : wanted) {
        const xml::ManifestDisk* disk = set.manifest->find_disk(target);
        if (!disk)
            throw util::InputError("backup set " + quoted(set.path) + " has no disk " + quoted(target) +
                                   " (it holds " + held + ")");
        chosen.push_back(disk);
    }
    return chosen;
}

// What a disk comes back as: --format, else the format the domain had
// (a raw disk stays raw, so its definition's driver type stays right),
// else qcow2 for formats virtsnap does not write.
std::string restored_format(const xml::ManifestDisk& disk, const Options& options) {
    if (!options.format.empty())
        return options.format;
    return disk.format == "raw" ? "raw" : "qcow2";
}

// The definition saved with the set: the persistent one, else the live one.
std::optional<std::string> saved_definition(const store::BackupSet& set) {
    for (const char* name : {store::set_domain_xml_file, store::set_live_domain_xml_file})
        if (std::optional<std::string> text = store::read_if_exists(set.path + "/" + name))
            return text;
    return std::nullopt;
}

// Refuses, before anything is written, to replace a file without --force,
// and a domain's image unless that domain is shut off and --force given.
void check_outputs(const std::vector<std::string>& outputs, const Options& options,
                   const std::optional<virt::Connection>& conn) {
    std::map<std::string, ImageUser> users;
    if (conn)
        users = images_in_use(*conn);
    for (const std::string& path : outputs) {
        auto user = users.find(path);
        if (user != users.end() && user->second.running)
            throw util::RefusedError(quoted(path) + " is an image of running domain " +
                                     quoted(user->second.domain) +
                                     "; shut it off first; nothing was restored");
        if (::access(path.c_str(), F_OK) != 0)
            continue;
        if (!options.force)
            throw util::RefusedError(quoted(path) + " already exists" +
                                     (user != users.end()
                                          ? " (an image of domain " + quoted(user->second.domain) + ")"
                                          : std::string()) +
                                     "; nothing was restored (--force replaces it)");
        if (!conn)
            throw util::RefusedError("cannot tell whether a domain uses " + quoted(path) +
                                     " (libvirt is unreachable); nothing was restored");
    }
}

cli::ExitStatus restore_disks(const store::BackupSet& set, const std::vector<const xml::ManifestDisk*>& disks,
                              const Options& options, const util::Log& log) {
    // libvirt answers which domain uses an image; without it a restore into
    // new files is still safe, so it goes on.
    std::optional<virt::Connection> conn;
    try {
        conn.emplace(virt::Connection::open(options.common.connect_uri));
    } catch (const util::Error& error) {
        if (!options.define_name.empty())
            throw;
        log.warn(std::string(error.what()) + "; going on without libvirt");
    }
    if (conn && !options.define_name.empty()) {
        bool exists = true;
        try {
            conn->lookup(options.define_name);
        } catch (const util::LibvirtError&) {
            exists = false;
        }
        if (exists)
            throw util::RefusedError("domain " + quoted(options.define_name) +
                                     " already exists; nothing was restored (choose another --define name)");
    }

    // QEMU runs as its own user and must reach the images (libvirt hands it
    // the files themselves, which stay 0600): others may pass, not list.
    const std::string dir = copy::prepare_backup_directory(options.output_dir, 0711);
    std::vector<std::string> outputs;
    for (const xml::ManifestDisk* disk : disks)
        outputs.push_back(dir + "/" + disk->target + "." + restored_format(*disk, options));
    outputs.push_back(dir + "/" + domain_xml_name);
    check_outputs(outputs, options, conn);

    copy::CreatedFiles created;
    std::optional<std::string> definition = saved_definition(set);
    for (const xml::ManifestDisk* disk : disks) {
        util::throw_if_interrupted();
        const std::string format = restored_format(*disk, options);
        const std::string path = rebuild_disk(set, *disk, dir, format, created, log);
        log.info("disk " + disk->target + " restored to " + quoted(path) + " (checksums match the backup)");
        if (definition)
            *definition = xml::with_disk_source(*definition, disk->target, "file", path, format,
                                                "the saved definition");
        std::cout << path << '\n';
    }
    if (!definition) {
        log.warn("backup set " + quoted(set.path) +
                 " holds no domain definition; only the images were restored");
        created.keep();
        return cli::ExitStatus::ok;
    }
    if (!options.define_name.empty())
        *definition = xml::as_new_domain(*definition, options.define_name, "the saved definition");
    const std::string xml_path = dir + "/" + domain_xml_name;
    created.add(xml_path);
    store::write_durable(xml_path, *definition);
    if (disks.size() < set.manifest->disks.size())
        log.info("disks not restored keep their original sources in " + quoted(xml_path));
    if (!options.define_name.empty()) {
        conn->define(*definition);
        log.info("defined domain " + quoted(options.define_name) + " on the restored images");
    }
    created.keep();
    std::cout << xml_path << '\n';
    return cli::ExitStatus::ok;
}

} // namespace

cli::ExitStatus run_restore(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    const Options& options = *parsed;
    util::Log log(tool_name, options.common.verbosity());
    util::InterruptGuard interrupts;

    store::BackupSet set = store::read_set(absolute(options.set));
    std::vector<const xml::ManifestDisk*> disks = chosen_disks(set, options.disks);
    if (!options.guest_path.empty()) {
        restore_file(set, disks, options.guest_path, options.host_path, options.force, log);
        log.info(quoted(options.guest_path) + " restored to " + quoted(options.host_path));
        return cli::ExitStatus::ok;
    }
    return restore_disks(set, disks, options, log);
}

} // namespace virtsnap::restore
