#include "verify.hpp"

#include "cli/manifest_io.hpp"
#include "options.hpp"
#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "verify/backup_verification.hpp"

namespace virtsnap::verify_tool {

using util::quoted;

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

    xml::Manifest manifest;
    if (options.backup_dir.empty()) {
        manifest = cli::read_manifest(options.manifest);
    } else {
        const std::string path = options.backup_dir + "/manifest.xml";
        std::optional<std::string> text = store::read_if_exists(path);
        if (!text)
            throw util::InputError(quoted(options.backup_dir) +
                                   " is not a virtsnap backup directory (no manifest.xml)");
        manifest = xml::parse_manifest(*text, "manifest " + quoted(path));
    }
    try {
        cli::refuse_if_failed(manifest, "nothing was verified");
        verify::verify_backup(
            manifest, {options.backup_dir, options.source, options.checksums, options.filesystems}, log);
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
