#include "copy.hpp"

#include "cli/manifest_io.hpp"
#include "copy_disk.hpp"
#include "options.hpp"
#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <unistd.h>

namespace virtsnap::copy_tool {

using util::quoted;

namespace {

constexpr const char* tool_name = "virtsnap-copy";

std::string prepare_directory(const std::string& dir) {
    store::ensure_private_directory(dir);
    char resolved[PATH_MAX];
    if (!::realpath(dir.c_str(), resolved))
        throw util::SystemError("cannot resolve " + quoted(dir), errno);
    if (::access(resolved, W_OK) != 0)
        throw util::RefusedError("destination " + quoted(resolved) + " is not writable");
    return resolved;
}

void refuse_existing(const xml::Manifest& manifest, const CopySettings& settings) {
    for (const xml::ManifestDisk& disk : manifest.disks)
        for (const std::string& name : backup_file_names(disk, settings)) {
            const std::string path = settings.dir + "/" + name;
            if (::access(path.c_str(), F_OK) == 0)
                throw util::RefusedError("backup file " + quoted(path) +
                                         " already exists; nothing was copied (--force replaces it)");
        }
}

// The same kind of error, with the disk and the destination in front.
[[noreturn]] void rethrow_for_disk(const util::Error& error, const xml::ManifestDisk& disk,
                                   const std::string& dir) {
    const std::string message = "disk " + quoted(disk.target) + " to " + quoted(dir) + ": " + error.what();
    if (dynamic_cast<const util::Interrupted*>(&error))
        throw util::Interrupted(message);
    if (dynamic_cast<const util::RefusedError*>(&error))
        throw util::RefusedError(message);
    if (dynamic_cast<const util::InputError*>(&error))
        throw util::InputError(message);
    throw util::Error(message);
}

void copy_all(xml::Manifest& manifest, const Options& options, const util::Log& log) {
    cli::refuse_if_failed(manifest, "nothing was copied");
    CopySettings settings{prepare_directory(options.output_dir), options.format, options.keep_chain,
                          options.compress};
    if (!options.force)
        refuse_existing(manifest, settings);
    CreatedFiles created;
    for (xml::ManifestDisk& disk : manifest.disks) {
        try {
            disk.backup = copy_disk(disk, settings, created, log);
        } catch (const util::Error& error) {
            rethrow_for_disk(error, disk, settings.dir);
        }
    }
    manifest.backup_dir = settings.dir;
    store::write_durable(settings.dir + "/manifest.xml", xml::to_xml(manifest));
    created.keep();
}

} // namespace

cli::ExitStatus run_copy(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    const Options& options = *parsed;
    util::Log log(tool_name, options.common.verbosity());
    util::InterruptGuard interrupt_guard;

    xml::Manifest manifest = cli::read_manifest(options.manifest);
    try {
        copy_all(manifest, options, log);
    } catch (const util::Error& error) {
        // Downstream tools (virtsnap-commit) still need the manifest.
        for (xml::ManifestDisk& disk : manifest.disks)
            disk.backup.reset();
        manifest.backup_dir.clear();
        manifest.failures.push_back({tool_name, error.what()});
        cli::write_manifest(manifest);
        throw;
    }
    cli::write_manifest(manifest);
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::copy_tool
