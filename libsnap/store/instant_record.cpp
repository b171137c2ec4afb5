#include "store/instant_record.hpp"

#include "store/durable_file.hpp"
#include "store/set_layout.hpp"
#include "util/error.hpp"
#include "util/file_read.hpp"
#include "xml/document.hpp"
#include "xml/field_reader.hpp"
#include "xml/snapshot_disk.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <set>

namespace virtsnap::store {

using util::quoted;

namespace {

constexpr const char* root_name = "virtsnap-instant";
constexpr const char* format_version = "1";
constexpr const char* suffix = ".instant";

std::string parent_of(const std::string& path) {
    const std::size_t slash = path.rfind('/');
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string resolved(const std::string& path) {
    char buffer[PATH_MAX];
    return ::realpath(path.c_str(), buffer) ? std::string(buffer) : path;
}

} // namespace

bool is_recordable_domain_name(const std::string& name) {
    if (name.empty() || name.size() > 200 || name.front() == '.')
        return false;
    return std::none_of(name.begin(), name.end(),
                        [](char c) { return c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::string instant_record_path(const std::string& state_dir, const std::string& domain_name) {
    if (!is_recordable_domain_name(domain_name))
        throw util::UsageError("domain name " + quoted(domain_name) +
                               " cannot name an instant-restore record (no '/', no leading '.')");
    return state_dir + "/" + domain_name + suffix;
}

std::string to_xml(const InstantRecord& record) {
    xml::DocPtr doc(xmlNewDoc(xml::xml_chars("1.0")));
    xmlNode* root = xmlNewNode(nullptr, xml::xml_chars(root_name));
    xmlDocSetRootElement(doc.get(), root);
    xml::set_attribute(root, "version", format_version);
    xml::set_attribute(xml::add_element(root, "domain"), "name", record.domain_name);
    xml::set_attribute(xml::add_element(root, "output"), "dir", record.output_dir);
    for (const std::string& dir : record.set_dirs)
        xml::set_attribute(xml::add_element(root, "set"), "dir", dir);
    for (const InstantRecord::Disk& disk : record.disks) {
        xmlNode* node = xml::add_element(root, "disk");
        xml::set_attribute(node, "target", disk.target);
        xml::set_attribute(node, "image", disk.image);
        xml::set_attribute(node, "backing", disk.backing);
        xml::set_attribute(node, "backing-format", disk.backing_format);
    }
    for (const FileOwner& owner : record.owners) {
        xmlNode* node = xml::add_element(root, "owner");
        xml::set_attribute(node, "path", owner.path);
        xml::set_attribute(node, "uid", std::to_string(owner.uid));
        xml::set_attribute(node, "gid", std::to_string(owner.gid));
        xml::set_attribute(node, "mode", std::to_string(owner.mode));
    }
    for (const std::string& dir : record.searchable)
        xml::set_attribute(xml::add_element(root, "searchable"), "dir", dir);
    return xml::serialize(doc.get());
}

InstantRecord parse_instant_record(const std::string& text, const std::string& what) {
    xml::Document doc = xml::Document::parse(text, what);
    xml::FieldReader reader(doc, what, "virtsnap instant-restore record");
    if (xml::element_name(doc.root()) != root_name)
        reader.fail("the root element is <" + xml::element_name(doc.root()) + ">, not <" + root_name + ">");
    if (reader.required(doc.root(), "version") != format_version)
        reader.fail("format version " + quoted(reader.required(doc.root(), "version")) +
                    " is not supported (this virtsnap reads " + format_version + ")");
    InstantRecord record;
    record.domain_name = reader.required(reader.one("/virtsnap-instant/domain", "<domain>"), "name");
    if (!is_recordable_domain_name(record.domain_name))
        reader.fail("domain name " + quoted(record.domain_name) + " is not one virtsnap records");
    record.output_dir = reader.required(reader.one("/virtsnap-instant/output", "<output>"), "dir");
    reader.clean_path(record.output_dir, "output directory");
    for (xmlNode* node : doc.select("/virtsnap-instant/set")) {
        record.set_dirs.push_back(reader.required(node, "dir"));
        reader.clean_path(record.set_dirs.back(), "set directory");
        if (!is_set_id(record.set_dirs.back().substr(record.set_dirs.back().rfind('/') + 1)))
            reader.fail("set directory " + quoted(record.set_dirs.back()) + " is not named by a set id");
    }
    if (record.set_dirs.empty())
        reader.fail("it names no set");
    std::set<std::string> targets;
    for (xmlNode* node : doc.select("/virtsnap-instant/disk")) {
        InstantRecord::Disk disk{reader.required(node, "target"), reader.required(node, "image"),
                                 reader.required(node, "backing"), reader.required(node, "backing-format")};
        if (!xml::is_valid_target(disk.target) || !targets.insert(disk.target).second)
            reader.fail("disk target " + quoted(disk.target) + " is malformed or appears twice");
        reader.clean_path(disk.image, "image of disk " + disk.target);
        if (parent_of(disk.image) != record.output_dir)
            reader.fail("image " + quoted(disk.image) + " is not in the output directory");
        reader.image_path(disk.backing, "backing image of disk " + disk.target);
        if (disk.backing_format != "qcow2" && disk.backing_format != "raw")
            reader.fail("backing format " + quoted(disk.backing_format) + " is neither qcow2 nor raw");
        record.disks.push_back(std::move(disk));
    }
    if (record.disks.empty())
        reader.fail("it names no disk");
    for (xmlNode* node : doc.select("/virtsnap-instant/owner")) {
        FileOwner owner;
        owner.path = reader.required(node, "path");
        reader.clean_path(owner.path, "owned file");
        if (std::find(record.set_dirs.begin(), record.set_dirs.end(), parent_of(owner.path)) ==
            record.set_dirs.end())
            reader.fail("owned file " + quoted(owner.path) + " is not in one of its sets");
        const std::uint64_t uid = reader.size(reader.required(node, "uid"), "uid");
        const std::uint64_t gid = reader.size(reader.required(node, "gid"), "gid");
        const std::uint64_t mode = reader.size(reader.required(node, "mode"), "mode");
        if (uid >= 0xffffffffULL || gid >= 0xffffffffULL || mode > 07777)
            reader.fail("owner of " + quoted(owner.path) + " is out of range");
        owner.uid = static_cast<uid_t>(uid);
        owner.gid = static_cast<gid_t>(gid);
        owner.mode = static_cast<mode_t>(mode);
        record.owners.push_back(std::move(owner));
    }
    for (xmlNode* node : doc.select("/virtsnap-instant/searchable")) {
        const std::string dir = reader.required(node, "dir");
        reader.clean_path(dir, "searchable directory");
        const bool above_a_set =
            std::any_of(record.set_dirs.begin(), record.set_dirs.end(), [&](const std::string& set) {
                return set == dir ||
                       (set.compare(0, dir.size(), dir) == 0 && (dir == "/" || set[dir.size()] == '/'));
            });
        if (!above_a_set)
            reader.fail("searchable directory " + quoted(dir) + " is neither a set nor above one");
        record.searchable.push_back(dir);
    }
    return record;
}

void save_instant_record(const std::string& state_dir, const InstantRecord& record) {
    const std::string path = instant_record_path(state_dir, record.domain_name);
    ensure_private_directory(state_dir);
    write_durable(path, to_xml(record));
}

std::optional<InstantRecord> load_instant_record(const std::string& state_dir,
                                                 const std::string& domain_name) {
    const std::string path = instant_record_path(state_dir, domain_name);
    const std::string what = "instant-restore record " + quoted(path);
    std::optional<std::string> text =
        util::read_strict_file_if_exists(AT_FDCWD, path, util::state_record_size_limit, what);
    if (!text)
        return std::nullopt;
    InstantRecord record = parse_instant_record(*text, what);
    if (record.domain_name != domain_name)
        throw util::InputError(what + " belongs to domain " + quoted(record.domain_name));
    return record;
}

void remove_instant_record(const std::string& state_dir, const std::string& domain_name) {
    remove_durable(instant_record_path(state_dir, domain_name));
}

namespace {

std::vector<std::string> record_names(const std::string& state_dir) {
    std::vector<std::string> names;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(state_dir.c_str()), ::closedir);
    if (!dir)
        return names; // no state directory: no record
    while (const dirent* entry = ::readdir(dir.get())) {
        const std::string name = entry->d_name;
        if (name.size() > std::string(suffix).size() &&
            name.compare(name.size() - std::string(suffix).size(), std::string::npos, suffix) == 0)
            names.push_back(name.substr(0, name.size() - std::string(suffix).size()));
    }
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

std::vector<InstantRecord> instant_records(const std::string& state_dir) {
    std::vector<InstantRecord> records;
    for (const std::string& name : record_names(state_dir)) {
        try {
            if (std::optional<InstantRecord> record = load_instant_record(state_dir, name))
                records.push_back(std::move(*record));
        } catch (const util::Error&) {}
    }
    return records;
}

bool searchable_elsewhere(const std::vector<InstantRecord>& records, const std::string& domain_name,
                          const std::string& dir) {
    return std::any_of(records.begin(), records.end(), [&](const InstantRecord& record) {
        return record.domain_name != domain_name &&
               std::find(record.searchable.begin(), record.searchable.end(), dir) != record.searchable.end();
    });
}

std::optional<FileOwner> owner_elsewhere(const std::vector<InstantRecord>& records,
                                         const std::string& domain_name, const std::string& path) {
    for (const InstantRecord& record : records) {
        if (record.domain_name == domain_name)
            continue;
        for (const FileOwner& owner : record.owners)
            if (owner.path == path)
                return owner;
    }
    return std::nullopt;
}

std::vector<FileOwner> owners_to_restore(const std::vector<InstantRecord>& records,
                                         const InstantRecord& record) {
    std::vector<FileOwner> owners;
    for (const FileOwner& owner : record.owners)
        if (!owner_elsewhere(records, record.domain_name, owner.path))
            owners.push_back(owner);
    return owners;
}

InstantPins instant_pins(const std::string& state_dir, const std::string& domain_dir) {
    InstantPins pins;
    const std::vector<std::string> names = record_names(state_dir);
    const std::string domain = resolved(domain_dir);
    for (const std::string& name : names) {
        try {
            std::optional<InstantRecord> record = load_instant_record(state_dir, name);
            if (!record)
                continue;
            for (const std::string& set : record->set_dirs)
                if (parent_of(set) == domain) {
                    pins.set_ids.push_back(set.substr(set.rfind('/') + 1));
                    pins.reasons.push_back("domain " + quoted(name) +
                                           " restored with --instant still reads it (" +
                                           instant_record_path(state_dir, name) +
                                           "; 'virtsnap-restore --finish " + name + "' completes it)");
                }
        } catch (const util::Error& error) {
            pins.warnings.push_back(std::string(error.what()) +
                                    "; the sets it may name are not known to be kept");
        }
    }
    return pins;
}

} // namespace virtsnap::store
