#include "create.hpp"

#include "options.hpp"

#include "store/domain_lock.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "virt/domain_snapshot.hpp"

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

    virt::Connection conn = virt::Connection::open(options.common.connect_uri);
    virt::Domain domain = conn.lookup(options.domain);
    if (!domain.is_active())
        throw util::RefusedError(
            "domain " + quoted(domain.name()) +
            " is not running; a shut-off domain needs no snapshot: copy its images as they are "
            "(virtsnap-backup does this)");
    store::DomainLock lock =
        store::DomainLock::acquire(options.snapshot.settings.state_dir, domain.uuid(), domain.name());
    xml::Manifest manifest = virt::snapshot_domain(conn, domain, options.snapshot.settings, log);
    std::cout << xml::to_xml(manifest);
    log.info("snapshot " + manifest.snapshot_id + " of domain " + quoted(domain.name()) + ": " +
             std::to_string(manifest.disks.size()) + " disk(s), " +
             (manifest.quiesced ? "quiesced, frozen for " + std::to_string(manifest.freeze_ms) + " ms"
                                : std::string("crash-consistent")));
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::create
