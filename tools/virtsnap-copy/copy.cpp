#include "copy.hpp"

#include "cli/manifest_io.hpp"
#include "job/pipeline.hpp"
#include "options.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

namespace virtsnap::copy_tool {

namespace {

constexpr const char* tool_name = "virtsnap-copy";

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
        cli::refuse_if_failed(manifest, "nothing was copied");
        job::copy_manifest(manifest, options.output_dir, options.copy, log);
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
