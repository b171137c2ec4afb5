#include "copy.hpp"

#include "cli/manifest_io.hpp"
#include "copy/disk_copy.hpp"
#include "options.hpp"
#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace virtsnap::copy_tool {

using util::quoted;

namespace {

constexpr const char* tool_name = "virtsnap-copy";

void copy_all(xml::Manifest& manifest, const Options& options, const util::Log& log) {
    cli::refuse_if_failed(manifest, "nothing was copied");
    copy::CopySettings settings = options.copy;
    settings.dir = copy::prepare_backup_directory(options.output_dir);
    copy::CreatedFiles created;
    copy::copy_disks(manifest, settings, created, log);
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
