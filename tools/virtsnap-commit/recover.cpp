// --recover DOMAIN: finishes whatever a virtsnap run left half-done on a
// domain — killed before, during or after the snapshot, during the copy or
// during the commit, with the domain running or shut off — from the state
// record and the domain's real disks. Running it again, or on a clean
// domain, changes nothing.

#include "commit.hpp"

#include "store/domain_lock.hpp"
#include "store/state_record.hpp"
#include "util/error.hpp"
#include "virt/merge_overlays.hpp"

namespace virtsnap::commit {

using util::quoted;

cli::ExitStatus run_recover(const Options& options, const util::Log& log) {
    virt::Connection conn = virt::Connection::open(options.common.connect_uri);
    virt::Domain domain = conn.lookup(options.recover_domain);
    store::DomainLock lock = store::DomainLock::acquire(options.state_dir, domain.uuid(), domain.name());
    std::optional<store::StateRecord> record = store::load_state(options.state_dir, domain.uuid());
    if (!record) {
        std::string which;
        if (virt::on_virtsnap_overlay(domain, &which))
            throw util::RefusedError(
                "domain " + quoted(domain.name()) + " is on a virtsnap overlay (" + which + ") but " +
                quoted(options.state_dir) +
                " holds no state record of it; pass the --state-dir of the run that made it");
        log.info("domain " + quoted(domain.name()) + " has no unfinished virtsnap run; nothing to do");
        return cli::ExitStatus::ok;
    }
    log.info("recovering snapshot " + record->manifest.snapshot_id + " of domain " + quoted(domain.name()) +
             " (the run stopped at stage " + store::to_string(record->stage) + ")");
    record->stage = store::Stage::committing;
    store::save_state(options.state_dir, *record);
    virt::merge_overlays(conn, domain, record->manifest,
                         virt::MergeSettings{options.timeout, options.bandwidth_mib}, log);
    store::remove_state(options.state_dir, domain.uuid());
    log.info("domain " + quoted(domain.name()) + " is back on its original chains");
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::commit
