#include "options.hpp"

#include "cli/config_file.hpp"
#include "cli/copy_options.hpp"
#include "cli/parse.hpp"
#include "job/hooks.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <boost/program_options/value_semantic.hpp>

#include <algorithm>
#include <functional>
#include <map>

namespace po = boost::program_options;

namespace virtsnap::backup {

namespace {

// What the configuration file may not set: the answers and the job's shape
// anywhere; in a domain's section, what is one for the whole job.
std::string refused_in_file(const std::string& key, bool in_domain_section) {
    for (const char* never : {"help", "version", "config", "all"})
        if (key == never)
            return "is for the command line only";
    if (in_domain_section)
        for (const char* job_wide : {"output", "include-domain", "exclude-domain", "metrics-file", "log-file",
                                     "state-dir", "connect", "hook", "hook-timeout"})
            if (key == job_wide)
                return "is one for the whole job: set it before any [domain:NAME] section";
    return "";
}

// What the parse leaves to check: the values' meaning, and how options go
// together.
void check_options(Options& options, const std::vector<std::string>& domains, const std::string& keep,
                   bool no_verify, const std::string& verify_with, const std::string& commit_timeout,
                   const std::string& bandwidth, cli::CopyOptions& copy, cli::SnapshotOptions& snapshot) {
    if (domains.size() > 1)
        throw util::UsageError("one domain at a time (or --all); got " + util::quoted(domains[0]) + " and " +
                               util::quoted(domains[1]));
    if (!domains.empty())
        options.domain = domains.front();
    if (options.domain.empty() && !options.all)
        throw util::UsageError("no domain given (or --all)");
    if (!options.domain.empty() && options.all)
        throw util::UsageError("a domain and --all exclude each other");
    if (options.backup.dest.empty())
        throw util::UsageError("no destination: name one with -o DEST");
    for (const std::string& name : options.included_domains)
        if (std::find(options.excluded_domains.begin(), options.excluded_domains.end(), name) !=
            options.excluded_domains.end())
            throw util::UsageError("domain " + util::quoted(name) +
                                   " is named by both --include-domain and --exclude-domain");
    cli::finish_copy_options(copy);
    options.backup.copy = copy.settings;
    if (!keep.empty()) {
        // Keeping none would delete the set just made.
        if (keep.find_first_not_of("0123456789") != std::string::npos || keep.size() > 6 ||
            std::stoul(keep) == 0)
            throw util::UsageError("--keep must be a number of sets from 1 to 999999, not " +
                                   util::quoted(keep));
        options.backup.keep = static_cast<unsigned>(std::stoul(keep));
    }
    if (options.backup.synthetic_full && options.backup.keep == 0)
        throw util::UsageError(
            "--synthetic-full makes a set --keep keeps a full of its own, so that --keep can "
            "remove the sets below it; it needs --keep N");
    if (options.backup.synthetic_full && options.backup.keep == 1)
        throw util::UsageError("--synthetic-full needs --keep 2 or more: the one set --keep 1 keeps is the "
                               "newest, which never becomes a synthetic full");
    options.backup.verify = !no_verify;
    if (no_verify && !verify_with.empty())
        throw util::UsageError("--no-verify and --verify-with exclude each other");
    if (verify_with.empty() || verify_with == "qemu-checksums")
        options.backup.verification = job::Verification::qemu_checksums;
    else if (verify_with == "source")
        options.backup.verification = job::Verification::source;
    else
        throw util::UsageError("--verify-with must be qemu-checksums or source, not " +
                               util::quoted(verify_with));
    options.backup.merge.timeout = util::parse_duration(commit_timeout, "commit-timeout");
    options.backup.merge.bandwidth_mib =
        static_cast<unsigned long>(util::parse_count(bandwidth, "bandwidth", 0, virt::max_bandwidth_mib));
    cli::finish_snapshot_options(snapshot);
    options.backup.snapshot = snapshot.settings;
    if (options.all && !options.backup.snapshot.disks.empty())
        throw util::UsageError("--disk names disks of one domain; it cannot go with --all");
}

// An output file option given an empty name would silently mean "none".
std::function<void(const std::string&)> named_file(const char* option) {
    return [option](const std::string& path) {
        if (path.empty())
            throw util::UsageError(std::string("--") + option + " needs a file name, not an empty one");
    };
}

// --level, once the copy options are known.
job::Level parse_level(const std::string& level, const copy::CopySettings& copy) {
    job::Level parsed = job::Level::copy;
    if (level.empty() || level == "copy")
        return job::Level::copy;
    if (level == "full")
        parsed = job::Level::full;
    else if (level == "inc")
        parsed = job::Level::inc;
    else if (level == "diff")
        parsed = job::Level::diff;
    else
        throw util::UsageError("--level must be copy, full, inc or diff, not " + util::quoted(level));
    if (copy.format == "raw")
        throw util::UsageError("--level " + level +
                               " keeps a chain of qcow2 sets; --format raw makes sets an incremental "
                               "cannot build on");
    return parsed;
}

} // namespace

std::optional<Options> parse_options(int argc, char** argv, const std::string& section_domain) {
    Options options;
    std::string config_path;
    std::string hook_timeout = "5m";
    std::map<std::string, std::string> from_file; // key: "FILE:LINE"
    std::string commit_timeout = "30m";
    bool no_verify = false;
    std::string verify_with; // empty: not given
    std::string level;       // empty: copy
    std::string full_every;  // empty: never
    std::vector<std::string> domains;
    std::vector<std::string> other_sections; // the file's [domain:NAME] sections
    std::string keep;
    std::string bandwidth = "0";
    cli::CopyOptions copy;
    cli::SnapshotOptions snapshot;
    cli::CommandLine line{"virtsnap-backup",
                          "usage: virtsnap-backup [OPTIONS] DOMAIN -o DEST\n"
                          "       virtsnap-backup [OPTIONS] --all -o DEST\n"
                          "Backs up a domain into a new backup set DEST/DOMAIN/SET_ID: snapshot, copy,\n"
                          "verify and commit in one process; the commit happens on every path.",
                          po::options_description("Options"),
                          po::options_description(),
                          {},
                          {}};
    cli::add_common_options(line.visible, options.common, true);
    line.visible.add_options() //
        ("output,o", po::value(&options.backup.dest)->value_name("DEST"),
         "where backup sets live (DEST/DOMAIN/SET_ID; created, mode 0700, when missing)") //
        ("all", po::bool_switch(&options.all),
         "back up every domain of the connection, running and shut off, one after another") //
        ("no-verify", po::bool_switch(&no_verify),
         "do not verify the copies before the set is complete") //
        ("verify-with", po::value(&verify_with)->value_name("MODE"),
         "qemu-checksums (default): hash each copy where qemu-img map places its content against the "
         "checksums taken while copying (one read); source: compare each copy with its frozen image "
         "(qemu-img compare, two reads); layers of a chain are compared with their frozen image either "
         "way") //
        ("level", po::value(&level)->value_name("LEVEL"),
         "copy (default: a standalone set, the domain left on its own images), full (a standalone set "
         "whose overlays stay as the domain's change record) or inc (only what changed since the "
         "previous set of the chain; a full when the record cannot be used) or diff (what changed since the "
         "chain's full)") //
        ("full-every", po::value(&full_every)->value_name("N"),
         "with --level inc or diff, take a full instead once the chain holds N sets since its full") //
        ("keep", po::value(&keep)->value_name("N"),
         "after a successful backup, remove the oldest complete sets of the domain beyond N") //
        ("synthetic-full", po::bool_switch(&options.backup.synthetic_full),
         "with --keep N: when the N kept sets no longer include their chain's full, make the oldest of "
         "them a full of its own (the chain read and the disk written once, on the backup side), so the "
         "sets below it can be removed") //
        ("commit-timeout", po::value(&commit_timeout)->value_name("DURATION"),
         "longest the merge of one disk may take before it is left for --recover (default 30m)") //
        ("bandwidth", po::value(&bandwidth)->value_name("MIB"),
         "limit each disk's merge to MIB MiB/s (default: unlimited)") //
        ("metrics-file",
         po::value(&options.metrics_file)->value_name("PATH")->notifier(named_file("metrics-file")),
         "after the run, write its results as a Prometheus text file (node_exporter's textfile "
         "collector), atomically, mode 0644") //
        ("log-file", po::value(&options.log_file)->value_name("PATH")->notifier(named_file("log-file")),
         "also write the run's messages to PATH (a new file, mode 0600), then run the hook's log-end "
         "phase with it") //
        ("hook", po::value(&options.backup.hook.script)->value_name("SCRIPT"),
         "run SCRIPT at each phase of the run (job-start, backup-start, post-snapshot, pre-commit, "
         "post-commit, backup-end, backup-abort, log-end, job-end), the phase its argument, VIRTSNAP_* "
         "variables "
         "its environment") //
        ("hook-timeout", po::value(&hook_timeout)->value_name("DURATION"),
         "stop a hook (and what it started) that runs longer (default 5m)") //
        ("include-domain", po::value(&options.included_domains)->value_name("NAME"),
         "with --all, back up only the domains named so (repeatable); one not defined is a failure") //
        ("exclude-domain", po::value(&options.excluded_domains)->value_name("NAME"),
         "with --all, leave this domain out (repeatable)") //
        ("config", po::value(&config_path)->value_name("FILE"),
         "read options from FILE (default /etc/virtsnap/virtsnap.conf, when it exists); the command line "
         "overrides it");
    cli::add_copy_options(line.visible, copy);
    cli::add_snapshot_options(line.visible, snapshot, false);
    line.hidden.add_options()("domain", po::value(&domains));
    line.positional.add("domain", -1);
    line.after_command_line = [&](po::variables_map& vm) {
        const bool named = vm.count("config") > 0;
        const std::string path = named ? vm["config"].as<std::string>() : default_config_file;
        const std::optional<cli::ConfigFile> config = cli::ConfigFile::load(path, named);
        if (!config)
            return;
        other_sections = config->domain_sections();
        std::string domain = section_domain;
        if (domain.empty() && vm.count("domain") && vm["domain"].as<std::vector<std::string>>().size() == 1)
            domain = vm["domain"].as<std::vector<std::string>>().front();
        // Where each value the file sets comes from, for the errors above.
        auto note = [&](const std::vector<cli::ConfigEntry>& entries) {
            for (const cli::ConfigEntry& entry : entries)
                if ((!vm.count(entry.key) || vm[entry.key].defaulted()) && !from_file.count(entry.key))
                    from_file[entry.key] = config->path() + ":" + std::to_string(entry.line);
        };
        // The domain's section first: what is stored first wins.
        if (!domain.empty())
            note(config->domain(domain));
        note(config->global());
        // --no-verify and --verify-with set one thing under two names: where
        // one was given (on the command line, or in the domain's section),
        // the other is left out of what comes after, not a conflict.
        auto given = [&](const char* key) { return vm.count(key) > 0 && !vm[key].defaulted(); };
        auto not_overridden = [&](const std::vector<cli::ConfigEntry>& entries) {
            std::vector<cli::ConfigEntry> kept;
            for (const cli::ConfigEntry& entry : entries)
                if (!(entry.key == "no-verify" && given("verify-with")) &&
                    !(entry.key == "verify-with" && given("no-verify")))
                    kept.push_back(entry);
            return kept;
        };
        if (!domain.empty())
            cli::store_config_entries(*config, not_overridden(config->domain(domain)), line.visible, vm,
                                      [](const std::string& key) { return refused_in_file(key, true); });
        cli::store_config_entries(*config, not_overridden(config->global()), line.visible, vm,
                                  [](const std::string& key) { return refused_in_file(key, false); });
    };

    if (!cli::parse_command_line(argc, argv, line, options.common))
        return std::nullopt;
    try {
        check_options(options, domains, keep, no_verify, verify_with, commit_timeout, bandwidth, copy,
                      snapshot);
        options.backup.level = parse_level(level, options.backup.copy);
        if (!full_every.empty()) {
            options.backup.full_every =
                static_cast<unsigned>(util::parse_count(full_every, "full-every", 1, 999999));
        }
        options.backup.hook.timeout = util::parse_duration(hook_timeout, "hook-timeout");
        job::check_hook_script(options.backup.hook.script);
    } catch (const util::UsageError& error) {
        // A value the file set is named with its file and line.
        const std::string message = error.what();
        for (const auto& [key, place] : from_file)
            if (message.find("--" + key + " ") != std::string::npos ||
                message.find("--" + key + "'") != std::string::npos)
                throw util::UsageError(place + ": " + util::quoted(key) + ": " + message);
        throw;
    }
    // A mistake in another domain's section is said now, not first on the
    // night that domain runs; it fails only that domain's own runs (as with
    // --all, where each domain's section is read when its turn comes).
    if (section_domain.empty() && !options.all)
        for (const std::string& name : other_sections)
            if (name != options.domain)
                try {
                    parse_options(argc, argv, name);
                } catch (const util::UsageError& error) {
                    options.config_warnings.push_back("[domain:" + name + "]: " + error.what());
                }
    return options;
}

} // namespace virtsnap::backup
