// virtsnap-bench-copy: bench/copy's helper, never installed. Runs the copy
// virtsnap-copy runs (libsnap's copy_disks) on a manifest's disks, with or
// without the checksums, so bench/copy can time what checksums cost
// directly instead of bounding it.
//
//   virtsnap-bench-copy checksums|no-checksums MANIFEST DIR

#include "cli/manifest_io.hpp"
#include "cli/run.hpp"
#include "copy/disk_copy.hpp"
#include "util/error.hpp"

#include <string>

namespace {

virtsnap::cli::ExitStatus run(int argc, char** argv) {
    using namespace virtsnap;
    if (argc != 4 || (std::string(argv[1]) != "checksums" && std::string(argv[1]) != "no-checksums"))
        throw util::UsageError("usage: virtsnap-bench-copy checksums|no-checksums MANIFEST DIR");
    xml::Manifest manifest = cli::read_manifest(argv[2]);
    copy::CopySettings settings;
    settings.checksums = std::string(argv[1]) == "checksums";
    util::Log log("virtsnap-bench-copy", util::Verbosity::quiet);
    copy::OutputFiles outputs(copy::prepare_backup_directory(argv[3]));
    copy::copy_disks(manifest, settings, outputs, log);
    outputs.publish_all(false);
    return cli::ExitStatus::ok;
}

} // namespace

int main(int argc, char** argv) {
    return virtsnap::cli::run(argc, argv, "virtsnap-bench-copy", run);
}
