// --recover DOMAIN: finishes whatever a virtsnap run left half-done on a
// domain — killed before, during or after the snapshot, during the copy or
// during the commit, with the domain running or shut off — from the state
// record and the domain's real disks. Running it again, or on a clean
// domain, changes nothing.

#include "commit.hpp"

#include "store/domain_lock.hpp"
#include "util/error.hpp"
#include "virt/pending_commit.hpp"

namespace virtsnap::commit {

using util::quoted;

cli::ExitStatus run_recover(const Options& options, const util::Log& log) {
    virt::Connection conn = virt::Connection::open(options.common.connect_uri);
    virt::Domain domain = conn.lookup(options.recover_domain);
    store::DomainLock lock = store::DomainLock::acquire(options.state_dir, domain.uuid(), domain.name());
    if (!virt::recover_unfinished_run(conn, domain, options.state_dir,
                                      virt::MergeSettings{options.timeout, options.bandwidth_mib}, log))
        log.info("domain " + quoted(domain.name()) + " has no unfinished virtsnap run; nothing to do");
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::commit
