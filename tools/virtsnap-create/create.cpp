#include "create.hpp"

#include "job/pipeline.hpp"
#include "options.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"

#include <iostream>

namespace virtsnap::create {

using util::quoted;

cli::ExitStatus run_create(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    const Options& options = *parsed;
    util::Log log("virtsnap-create", options.common.verbosity());
    util::InterruptGuard interrupts;

    xml::Manifest manifest =
        job::create_snapshot(options.common.connect_uri, options.domain, options.snapshot.settings, log);
    std::cout << xml::to_xml(manifest);
    log.info("snapshot " + manifest.snapshot_id + " of domain " + quoted(manifest.domain_name) + ": " +
             std::to_string(manifest.disks.size()) + " disk(s), " +
             (manifest.quiesced ? "quiesced, frozen for " + std::to_string(manifest.freeze_ms) + " ms"
                                : std::string("crash-consistent")));
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::create
