#include "job/set_listing.hpp"

#include "util/duration.hpp"
#include "util/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <sys/stat.h>

namespace virtsnap::job {

using util::quoted;

namespace {

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

bool add(std::uint64_t& total, std::uint64_t value) {
    if (total > UINT64_MAX - value)
        return false;
    total += value;
    return true;
}

} // namespace

bool has_manifest(const SetRow& row) {
    return row.state == "complete" || row.state == "broken-chain";
}

SetRow set_row(const store::BackupSet& set, store::ChainCheck& chains) {
    SetRow row;
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
    row.level = m.level.empty() ? "copy" : m.level;
    row.parent = m.parent;
    row.level_reason = m.level_reason;
    if (m.on_parent())
        row.type = row.level;
    for (const xml::ManifestDisk& disk : m.disks) {
        row.disks.push_back(disk.target);
        if (disk.backup)
            for (const xml::BackupFile& file : disk.backup->files)
                if (!add(row.allocated, file.allocated) || !add(row.data, file.data_bytes)) {
                    SetRow damaged;
                    damaged.domain = set.domain;
                    damaged.id = set.id;
                    damaged.path = set.path;
                    damaged.state = "damaged";
                    damaged.problem = "its manifest records sizes that cannot add up";
                    return damaged;
                }
    }
    // An incremental set is a restore point only through every set below.
    std::string broken;
    try {
        broken = chains.problem(set.path, m);
    } catch (const util::Error& error) {
        broken = error.what();
    }
    if (!broken.empty()) {
        row.state = "broken-chain";
        row.problem = broken;
    }
    return row;
}

std::vector<SetRow> set_rows(const std::vector<store::BackupSet>& sets) {
    store::ChainCheck chains;
    std::vector<SetRow> rows;
    rows.reserve(sets.size());
    for (const store::BackupSet& set : sets)
        rows.push_back(set_row(set, chains));
    return rows;
}

namespace {

std::string joined(const std::vector<std::string>& items) {
    std::string text;
    for (const std::string& item : items)
        text += (text.empty() ? "" : ",") + item;
    return text.empty() ? "-" : text;
}

bool is_utf8(const std::string& text) {
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t length = util::utf8_sequence_length(text, at);
        if (length == 0)
            return false;
        at += length;
    }
    return true;
}

// A string from outside as JSON: as it is when it is UTF-8; else with
// U+FFFD for each bad byte, and its bytes in hex beside it.
} // namespace

void put_name(nlohmann::json& object, const std::string& key, const std::string& value) {
    if (is_utf8(value)) {
        object[key] = value;
        return;
    }
    std::string text, hex;
    static const char digits[] = "0123456789abcdef";
    for (std::size_t at = 0; at < value.size();) {
        const std::size_t length = util::utf8_sequence_length(value, at);
        if (length == 0) {
            text += "\xef\xbf\xbd";
            ++at;
        } else {
            text.append(value, at, length);
            at += length;
        }
    }
    for (char c : value) {
        hex += digits[static_cast<unsigned char>(c) >> 4];
        hex += digits[static_cast<unsigned char>(c) & 0xf];
    }
    object[key] = text;
    object[key + "_hex"] = hex;
}

std::vector<store::BackupSet> find_sets(const std::string& dest, const std::string& domain) {
    struct stat st {};
    if (::stat(dest.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw util::InputError(quoted(dest) + " is not a directory of backup sets");
    if (domain.empty())
        return store::list_sets(dest);
    const std::string dir = store::domain_sets_dir(dest, domain);
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw util::InputError(quoted(dest) + " holds no backup sets of domain " + quoted(domain));
    return store::list_domain_sets(dir);
}

std::string render_set_table(const std::vector<store::BackupSet>& sets) {
    std::vector<std::vector<std::string>> table{{"DOMAIN", "SET", "TIME", "TYPE", "DISKS", "SIZE", "QUIESCED",
                                                 "FREEZE", "VERIFIED", "STATE", "LEVEL", "PARENT"}};
    for (const SetRow& r : set_rows(sets)) {
        const bool complete = has_manifest(r);
        table.push_back(
            {util::printable(r.domain, true), r.id, complete ? util::printable(r.time, true) : "-",
             complete ? r.type : "-", joined(r.disks), complete ? util::format_size(r.allocated) : "-",
             !complete     ? "-"
             : r.offline   ? "offline"
             : *r.quiesced ? "yes"
                           : "no",
             r.freeze_ms >= 0 ? std::to_string(r.freeze_ms) + " ms" : "-", complete ? r.verified : "-",
             util::printable(r.problem.empty() ? r.state : r.state + ": " + r.problem),
             complete ? r.level : "-", r.parent.empty() ? "-" : util::printable(r.parent, true)});
    }
    return render_columns(table);
}

std::string render_columns(const std::vector<std::vector<std::string>>& table) {
    std::vector<size_t> width(table.empty() ? 0 : table.front().size(), 0);
    for (const auto& cells : table)
        for (size_t i = 0; i < cells.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], cells[i].size());
    std::string out;
    for (const auto& cells : table) {
        std::string line;
        for (size_t i = 0; i < cells.size(); ++i) {
            line += cells[i];
            if (i + 1 < cells.size() && i < width.size())
                line += std::string(width[i] - cells[i].size() + 2, ' ');
        }
        out += line + '\n';
    }
    return out;
}

std::string render_set_json(const std::vector<store::BackupSet>& sets) {
    nlohmann::json list = nlohmann::json::array();
    for (const SetRow& r : set_rows(sets)) {
        nlohmann::json set = nlohmann::json::object();
        put_name(set, "domain", r.domain);
        set["set"] = r.id;
        put_name(set, "path", r.path);
        set["state"] = r.state;
        if (!r.problem.empty())
            put_name(set, "problem", r.problem);
        if (has_manifest(r)) {
            put_name(set, "time", r.time);
            set["type"] = r.type;
            set["disks"] = r.disks;
            set["allocated_bytes"] = r.allocated;
            set["data_bytes"] = r.data;
            set["offline"] = r.offline;
            set["quiesced"] = *r.quiesced;
            set["freeze_ms"] = r.freeze_ms >= 0 ? nlohmann::json(r.freeze_ms) : nlohmann::json();
            set["verified"] = r.verified;
            set["level"] = r.level;
            set["parent"] = r.parent.empty() ? nlohmann::json() : nlohmann::json(r.parent);
            if (r.level_reason.empty())
                set["level_reason"] = nullptr;
            else
                put_name(set, "level_reason", r.level_reason);
        }
        list.push_back(std::move(set));
    }
    return list.dump(2) + '\n';
}

} // namespace virtsnap::job
