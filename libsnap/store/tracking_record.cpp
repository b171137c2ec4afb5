#include "store/tracking_record.hpp"

#include "store/durable_file.hpp"
#include "store/set_layout.hpp"
#include "util/error.hpp"
#include "util/file_read.hpp"
#include "xml/document.hpp"
#include "xml/field_reader.hpp"
#include "xml/manifest.hpp"
#include "xml/snapshot_xml.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <set>

namespace virtsnap::store {

using util::quoted;

namespace {

constexpr const char* root_name = "virtsnap-tracking";
constexpr const char* format_version = "1";

} // namespace

const xml::SnapshotDisk* TrackingRecord::find(const std::string& target) const {
    for (const xml::SnapshotDisk& disk : disks)
        if (disk.target == target)
            return &disk;
    return nullptr;
}

TrackingRecord tracking_after(const StateRecord& record) {
    TrackingRecord tracking;
    tracking.domain_name = record.domain_name;
    tracking.domain_uuid = record.domain_uuid;
    tracking.domain_dir = record.set_dir.substr(0, record.set_dir.find_last_of('/'));
    tracking.set_id = record.snapshot_id;
    tracking.overlay_id = record.snapshot_id;
    for (xml::SnapshotDisk disk : record.disks) {
        if (!record.below.empty() && !disk.chain.empty() &&
            xml::is_overlay_of(disk.frozen, record.below, disk.target)) {
            // Once the kept overlay is merged, the disk's own image is the
            // one below it.
            disk.frozen = disk.chain.front().path;
            disk.format = disk.chain.front().format;
            disk.chain.erase(disk.chain.begin());
        }
        tracking.disks.push_back(std::move(disk));
    }
    return tracking;
}

const TrackingRecord::Stamps* TrackingRecord::stamps_of(const std::string& target) const {
    for (const Stamps& s : stamps)
        if (s.target == target)
            return &s;
    return nullptr;
}

std::string file_stamp(const std::string& path, bool content) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return "";
    std::string stamp = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    if (content && S_ISREG(st.st_mode))
        stamp +=
            ":" + std::to_string(st.st_size) + ":" +
            std::to_string(static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec);
    return stamp;
}

void stamp_files(TrackingRecord& record) {
    record.stamps.clear();
    for (const xml::SnapshotDisk& disk : record.disks)
        record.stamps.push_back(
            {disk.target, file_stamp(disk.overlay, false), file_stamp(disk.frozen, true)});
}

std::string tracking_path(const std::string& state_dir, const std::string& domain_uuid) {
    if (!xml::is_valid_uuid(domain_uuid))
        throw util::Error("tracking_path: malformed domain UUID " + quoted(domain_uuid));
    return state_dir + "/" + domain_uuid + ".tracking";
}

std::string to_xml(const TrackingRecord& record) {
    xml::DocPtr doc(xmlNewDoc(xml::xml_chars("1.0")));
    xmlNode* root = xmlNewNode(nullptr, xml::xml_chars(root_name));
    xmlDocSetRootElement(doc.get(), root);
    xml::set_attribute(root, "version", format_version);
    xmlNode* domain = xml::add_element(root, "domain");
    xml::set_attribute(domain, "name", record.domain_name);
    xml::set_attribute(domain, "uuid", record.domain_uuid);
    xmlNode* chain = xml::add_element(root, "chain");
    xml::set_attribute(chain, "dir", record.domain_dir);
    xml::set_attribute(chain, "set", record.set_id);
    xml::set_attribute(chain, "overlays", record.overlay_id);
    xmlNode* disks = xml::add_element(root, "disks");
    for (const xml::SnapshotDisk& disk : record.disks)
        xml::write_snapshot_disk(disks, disk, false);
    for (const TrackingRecord::Stamps& s : record.stamps) {
        xmlNode* node = xml::add_element(root, "stamps");
        xml::set_attribute(node, "target", s.target);
        xml::set_attribute(node, "overlay", s.overlay);
        xml::set_attribute(node, "image", s.image);
    }
    return xml::serialize(doc.get());
}

TrackingRecord parse_tracking_record(const std::string& text, const std::string& what) {
    xml::Document doc = xml::Document::parse(text, what);
    xml::FieldReader reader(doc, what, "virtsnap change record");
    if (xml::element_name(doc.root()) != root_name)
        reader.fail("the root element is <" + xml::element_name(doc.root()) + ">, not <" + root_name + ">");
    const std::string version = reader.required(doc.root(), "version");
    if (version != format_version)
        reader.fail("format version " + quoted(version) + " is not supported (this virtsnap reads " +
                    format_version + ")");
    TrackingRecord record;
    const xmlNode* domain = reader.one("/virtsnap-tracking/domain", "<domain>");
    record.domain_name = reader.required(domain, "name");
    record.domain_uuid = reader.required(domain, "uuid");
    if (!xml::is_valid_uuid(record.domain_uuid))
        reader.fail("domain UUID " + quoted(record.domain_uuid) + " is malformed");
    const xmlNode* chain = reader.one("/virtsnap-tracking/chain", "<chain>");
    record.domain_dir = reader.required(chain, "dir");
    reader.clean_path(record.domain_dir, "domain directory");
    record.set_id = reader.required(chain, "set");
    if (!is_set_id(record.set_id))
        reader.fail("set id " + quoted(record.set_id) + " is malformed");
    record.overlay_id = reader.required(chain, "overlays");
    if (!is_set_id(record.overlay_id) || record.overlay_id > record.set_id)
        reader.fail("overlay snapshot id " + quoted(record.overlay_id) +
                    " is malformed or newer than its set");
    reader.one("/virtsnap-tracking/disks", "<disks>");
    std::set<std::string> targets;
    for (xmlNode* node : doc.select("/virtsnap-tracking/disks/disk")) {
        record.disks.push_back(xml::read_snapshot_disk(reader, node, false));
        if (!targets.insert(record.disks.back().target).second)
            reader.fail("disk " + quoted(record.disks.back().target) + " appears twice");
    }
    if (record.disks.empty())
        reader.fail("it names no disk");
    // A stamp is empty when its file could not be read as the record was
    // written: kept as such (and never trusted), not a damaged record.
    auto stamp = [&reader](const xmlNode* node, const char* name) {
        std::optional<std::string> value = xml::attribute(node, name);
        if (!value)
            reader.fail("<stamps> lacks the attribute " + std::string(name));
        return *value;
    };
    for (xmlNode* node : doc.select("/virtsnap-tracking/stamps")) {
        TrackingRecord::Stamps s{reader.required(node, "target"), stamp(node, "overlay"),
                                 stamp(node, "image")};
        if (!record.find(s.target) || record.stamps_of(s.target))
            reader.fail("stamps of disk " + quoted(s.target) + " are not of one of its disks");
        record.stamps.push_back(std::move(s));
    }
    return record;
}

void save_tracking(const std::string& state_dir, const TrackingRecord& record) {
    const std::string path = tracking_path(state_dir, record.domain_uuid);
    ensure_private_directory(state_dir);
    write_durable(path, to_xml(record));
}

std::optional<TrackingRecord> load_tracking(const std::string& state_dir, const std::string& domain_uuid) {
    const std::string path = tracking_path(state_dir, domain_uuid);
    const std::string what = "change record " + quoted(path);
    std::optional<std::string> text =
        util::read_strict_file_if_exists(AT_FDCWD, path, util::state_record_size_limit, what);
    if (!text)
        return std::nullopt;
    // What to do about it is part of the one line a tool prints.
    const std::string remedy =
        "; nothing was done ('virtsnap-commit --end-tracking' of the domain merges the "
        "overlays it runs on back and removes the record)";
    try {
        TrackingRecord record = parse_tracking_record(*text, what);
        if (record.domain_uuid != domain_uuid)
            throw util::InputError(what + " belongs to domain UUID " + record.domain_uuid);
        return record;
    } catch (const util::InputError& error) {
        throw util::InputError(error.what() + remedy);
    }
}

void remove_tracking(const std::string& state_dir, const std::string& domain_uuid) {
    remove_durable(tracking_path(state_dir, domain_uuid));
}

} // namespace virtsnap::store
