#include "verify.hpp"

#include "cli/manifest_io.hpp"
#include "job/pipeline.hpp"
#include "options.hpp"
#include "store/set_pin.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "verify/backup_verification.hpp"

namespace virtsnap::verify_tool {

namespace {

constexpr const char* tool_name = "virtsnap-verify";

} // namespace

cli::ExitStatus run_verify(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    const Options& options = *parsed;
    util::Log log(tool_name, options.common.verbosity());
    util::InterruptGuard interrupt_guard;

    xml::Manifest manifest = options.backup_dir.empty() ? cli::read_manifest(options.manifest)
                                                        : job::read_backup_manifest(options.backup_dir);
    // A backup directory is pinned (with the sets below an incremental one)
    // while it is read, so a backup's retention leaves it alone meanwhile.
    std::optional<store::SetPin> pinned;
    try {
        cli::refuse_if_failed(manifest, "nothing was verified");
        if (!options.backup_dir.empty())
            pinned.emplace(store::pin_chain(options.backup_dir, manifest));
        verify::VerifySettings settings;
        settings.dir = options.backup_dir;
        settings.source = options.source;
        settings.checksums = options.checksums;
        settings.qemu_checksums = options.qemu_checksums;
        settings.filesystems = options.filesystems;
        settings.chain = options.chain;
        verify::verify_backup(manifest, settings, log);
        cli::write_manifest(manifest);
        return cli::ExitStatus::ok;
    } catch (const util::Error& error) {
        // Passed on marked, so virtsnap-commit still merges and reports it.
        manifest.failures.push_back({tool_name, error.what()});
        cli::write_manifest(manifest);
        throw;
    }
}

} // namespace virtsnap::verify_tool
