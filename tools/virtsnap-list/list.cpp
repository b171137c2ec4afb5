#include "list.hpp"

#include "options.hpp"
#include "store/backup_set.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <iostream>
#include <sys/stat.h>

namespace virtsnap::list {

using util::quoted;

namespace {

// What a set's manifest says, reduced to the columns of the listing.
struct Row {
    std::string domain, id, time, state, verified;
    std::string type = "full";
    std::vector<std::string> disks;
    std::uint64_t allocated = 0, data = 0;
    std::optional<bool> quiesced;
    std::int64_t freeze_ms = -1;
    bool offline = false;
    std::string path, problem;
};

// "ok" when every check recorded passed, "mismatch" when one failed,
// "none" when nothing was checked.
std::string verified_state(const xml::Manifest& manifest) {
    bool any = false;
    for (const xml::ManifestDisk& disk : manifest.disks)
        for (const xml::Verification& check : disk.verifications) {
            if (check.result != "ok")
                return "mismatch";
            any = true;
        }
    return any ? "ok" : "none";
}

Row row_of(const store::BackupSet& set) {
    Row row;
    row.domain = set.domain;
    row.id = set.id;
    row.path = set.path;
    if (!set.complete) {
        row.state = "incomplete";
        return row;
    }
    if (!set.manifest) {
        row.state = "damaged";
        row.problem = set.problem;
        return row;
    }
    const xml::Manifest& m = *set.manifest;
    row.state = "complete";
    row.time = m.snapshot_time;
    row.quiesced = m.quiesced;
    row.freeze_ms = m.freeze_ms;
    row.offline = m.offline;
    row.verified = verified_state(m);
    for (const xml::ManifestDisk& disk : m.disks) {
        row.disks.push_back(disk.target);
        if (disk.backup)
            for (const xml::BackupFile& file : disk.backup->files) {
                row.allocated += file.allocated;
                row.data += file.data_bytes;
            }
    }
    return row;
}

std::string joined(const std::vector<std::string>& items) {
    std::string text;
    for (const std::string& item : items)
        text += (text.empty() ? "" : ",") + item;
    return text.empty() ? "-" : text;
}

void print_table(const std::vector<Row>& rows) {
    std::vector<std::vector<std::string>> table{
        {"DOMAIN", "SET", "TIME", "TYPE", "DISKS", "SIZE", "QUIESCED", "FREEZE", "VERIFIED", "STATE"}};
    for (const Row& r : rows) {
        const bool complete = r.state == "complete";
        table.push_back({r.domain, r.id, complete ? r.time : "-", complete ? r.type : "-", joined(r.disks),
                         complete ? util::format_size(r.allocated) : "-",
                         !complete     ? "-"
                         : r.offline   ? "offline"
                         : *r.quiesced ? "yes"
                                       : "no",
                         r.freeze_ms >= 0 ? std::to_string(r.freeze_ms) + " ms" : "-",
                         complete ? r.verified : "-",
                         r.problem.empty() ? r.state : r.state + ": " + r.problem});
    }
    std::vector<size_t> width(table.front().size(), 0);
    for (const auto& cells : table)
        for (size_t i = 0; i < cells.size(); ++i)
            width[i] = std::max(width[i], cells[i].size());
    for (const auto& cells : table) {
        std::string line;
        for (size_t i = 0; i < cells.size(); ++i) {
            line += cells[i];
            if (i + 1 < cells.size())
                line += std::string(width[i] - cells[i].size() + 2, ' ');
        }
        std::cout << line << '\n';
    }
}

void print_json(const std::vector<Row>& rows) {
    nlohmann::json list = nlohmann::json::array();
    for (const Row& r : rows) {
        nlohmann::json set{{"domain", r.domain}, {"set", r.id}, {"path", r.path}, {"state", r.state}};
        if (!r.problem.empty())
            set["problem"] = r.problem;
        if (r.state == "complete") {
            set["time"] = r.time;
            set["type"] = r.type;
            set["disks"] = r.disks;
            set["allocated_bytes"] = r.allocated;
            set["data_bytes"] = r.data;
            set["offline"] = r.offline;
            set["quiesced"] = *r.quiesced;
            set["freeze_ms"] = r.freeze_ms >= 0 ? nlohmann::json(r.freeze_ms) : nlohmann::json();
            set["verified"] = r.verified;
        }
        list.push_back(std::move(set));
    }
    std::cout << list.dump(2) << '\n';
}

} // namespace

cli::ExitStatus run_list(int argc, char** argv) {
    std::optional<Options> parsed = parse_options(argc, argv);
    if (!parsed)
        return cli::ExitStatus::ok;
    const Options& options = *parsed;
    struct stat st {};
    if (::stat(options.dest.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw util::InputError(quoted(options.dest) + " is not a directory of backup sets");
    std::vector<store::BackupSet> sets;
    if (options.domain.empty()) {
        sets = store::list_sets(options.dest);
    } else {
        const std::string dir = store::domain_sets_dir(options.dest, options.domain);
        if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            throw util::InputError(quoted(options.dest) + " holds no backup sets of domain " +
                                   quoted(options.domain));
        sets = store::list_domain_sets(dir);
    }
    std::vector<Row> rows;
    for (const store::BackupSet& set : sets)
        rows.push_back(row_of(set));
    if (options.json)
        print_json(rows);
    else
        print_table(rows);
    return cli::ExitStatus::ok;
}

} // namespace virtsnap::list
