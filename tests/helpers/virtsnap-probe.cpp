// virtsnap-probe: a test helper, not an installed tool. It exposes what
// libsnap sees of a live domain so the integration tests can hold it against
// virsh and qemu-img:
//   virtsnap-probe disks [-c URI] DOMAIN          the disk model (xml::render)
//   virtsnap-probe agent [-c URI] [--timeout MS] DOMAIN
//       prints "reachable" or "unreachable: REASON"; exits 0 or 1
//   virtsnap-probe snapshot-xml [-c URI] --id ID --overlay-dir DIR DOMAIN
//       the <domainsnapshot> libsnap would use for the eligible disks

#include "cli/common_options.hpp"
#include "cli/run.hpp"
#include "util/error.hpp"
#include "virt/connection.hpp"
#include "virt/disk_inventory.hpp"
#include "virt/guest_agent.hpp"
#include "xml/snapshot_xml.hpp"

#include <boost/program_options.hpp>

#include <iostream>
#include <map>

namespace po = boost::program_options;
using namespace virtsnap;

namespace {

cli::ExitStatus probe(int argc, char** argv) {
    cli::CommonOptions common;
    std::string command, domain_name;
    long timeout_ms = 10000;
    std::string snapshot_id = "probe", overlay_dir;
    po::options_description desc("virtsnap-probe options");
    cli::add_common_options(desc, common, true);
    desc.add_options()("timeout", po::value(&timeout_ms), "agent timeout in milliseconds") //
        ("id", po::value(&snapshot_id), "snapshot id")                                     //
        ("overlay-dir", po::value(&overlay_dir), "directory for block-device overlays");
    po::options_description hidden;
    hidden.add_options()("command", po::value(&command))("domain", po::value(&domain_name));
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description positional;
    positional.add("command", 1).add("domain", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    po::notify(vm);
    if (common.help) {
        std::cout << "usage: virtsnap-probe disks|agent|snapshot-xml [-c URI] [--timeout MS] [--id ID] "
                     "[--overlay-dir DIR] DOMAIN\n"
                  << desc;
        return cli::ExitStatus::ok;
    }
    if (command.empty() || domain_name.empty())
        throw util::UsageError("a command (disks or agent) and a domain are required");

    virt::Connection conn = virt::Connection::open(common.connect_uri);
    virt::Domain domain = conn.lookup(domain_name);
    if (command == "disks") {
        std::cout << xml::render(virt::read_domain_disks(domain));
        return cli::ExitStatus::ok;
    }
    if (command == "agent") {
        virt::AgentStatus status = virt::probe_guest_agent(domain, std::chrono::milliseconds(timeout_ms));
        if (status.reachable) {
            std::cout << "reachable in " << status.elapsed.count() << " ms\n";
            return cli::ExitStatus::ok;
        }
        std::cout << "unreachable: " << status.reason << "\n";
        return cli::ExitStatus::failure;
    }
    if (command == "snapshot-xml") {
        std::vector<xml::Disk> disks = virt::read_domain_disks(domain);
        std::map<std::string, std::string> overlays;
        for (const xml::Disk& disk : disks) {
            if (disk.eligibility == xml::Eligibility::eligible)
                overlays[disk.target] = xml::overlay_path_for(disk, snapshot_id, "", overlay_dir);
        }
        std::cout << xml::snapshot_xml(snapshot_id, disks, overlays);
        return cli::ExitStatus::ok;
    }
    throw util::UsageError("unknown command '" + command + "'");
}

} // namespace

int main(int argc, char** argv) {
    return cli::run(argc, argv, "virtsnap-probe", probe);
}
