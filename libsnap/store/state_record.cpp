#include "store/state_record.hpp"

#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/file_read.hpp"
#include "xml/document.hpp"
#include "xml/field_reader.hpp"
#include "xml/manifest.hpp"

#include <fcntl.h>

#include <set>

namespace virtsnap::store {

using util::quoted;

namespace {

constexpr const char* root_name = "virtsnap-state";
constexpr const char* format_version = "1";

Stage parse_stage(const xml::FieldReader& reader, const std::string& text) {
    for (Stage stage : {Stage::prepared, Stage::snapshotted, Stage::committing, Stage::keeping})
        if (text == to_string(stage))
            return stage;
    reader.fail("stage " + quoted(text) + " is not prepared, snapshotted, committing or keeping");
}

} // namespace

const char* to_string(Stage stage) {
    switch (stage) {
    case Stage::prepared:
        return "prepared";
    case Stage::snapshotted:
        return "snapshotted";
    case Stage::committing:
        return "committing";
    case Stage::keeping:
        return "keeping";
    }
    return "unknown";
}

StateRecord record_of(const xml::Manifest& manifest, Stage stage) {
    StateRecord record;
    record.stage = stage;
    record.domain_name = manifest.domain_name;
    record.domain_uuid = manifest.domain_uuid;
    record.snapshot_id = manifest.snapshot_id;
    for (const xml::ManifestDisk& disk : manifest.disks)
        record.disks.push_back(disk);
    return record;
}

std::string state_path(const std::string& state_dir, const std::string& domain_uuid) {
    if (!xml::is_valid_uuid(domain_uuid))
        throw util::Error("state_path: malformed domain UUID " + quoted(domain_uuid));
    return state_dir + "/" + domain_uuid + ".state";
}

std::string to_xml(const StateRecord& record) {
    xml::DocPtr doc(xmlNewDoc(xml::xml_chars("1.0")));
    xmlNode* root = xmlNewNode(nullptr, xml::xml_chars(root_name));
    xmlDocSetRootElement(doc.get(), root);
    xml::set_attribute(root, "version", format_version);
    xml::set_attribute(root, "stage", to_string(record.stage));
    xmlNode* domain = xml::add_element(root, "domain");
    xml::set_attribute(domain, "name", record.domain_name);
    xml::set_attribute(domain, "uuid", record.domain_uuid);
    xmlNode* snapshot = xml::add_element(root, "snapshot");
    xml::set_attribute(snapshot, "id", record.snapshot_id);
    xml::set_attribute(snapshot, "quiesce", record.quiesce ? "yes" : "no");
    if (!record.below.empty())
        xml::set_attribute(snapshot, "below", record.below);
    if (!record.set_dir.empty())
        xml::set_attribute(xml::add_element(root, "set"), "path", record.set_dir);
    xmlNode* disks = xml::add_element(root, "disks");
    for (const xml::SnapshotDisk& disk : record.disks)
        xml::write_snapshot_disk(disks, disk, false);
    return xml::serialize(doc.get());
}

StateRecord parse_state_record(const std::string& text, const std::string& what) {
    xml::Document doc = xml::Document::parse(text, what);
    xml::FieldReader reader(doc, what, "virtsnap state record");
    if (xml::element_name(doc.root()) != root_name)
        reader.fail("the root element is <" + xml::element_name(doc.root()) + ">, not <" + root_name + ">");
    const std::string version = reader.required(doc.root(), "version");
    if (version != format_version)
        reader.fail("format version " + quoted(version) + " is not supported (this virtsnap reads " +
                    format_version + ")");
    StateRecord record;
    record.stage = parse_stage(reader, xml::attribute_or(doc.root(), "stage", ""));
    const xmlNode* domain = reader.one("/virtsnap-state/domain", "<domain>");
    record.domain_name = reader.required(domain, "name");
    record.domain_uuid = reader.required(domain, "uuid");
    if (!xml::is_valid_uuid(record.domain_uuid))
        reader.fail("domain UUID " + quoted(record.domain_uuid) + " is malformed");
    const xmlNode* snapshot = reader.one("/virtsnap-state/snapshot", "<snapshot>");
    record.snapshot_id = reader.required(snapshot, "id");
    if (!xml::is_valid_snapshot_id(record.snapshot_id))
        reader.fail("snapshot id " + quoted(record.snapshot_id) + " is malformed");
    record.quiesce = reader.yes_no(reader.required(snapshot, "quiesce"), "quiesce");
    record.below = xml::attribute_or(snapshot, "below", "");
    if (!record.below.empty() && !xml::is_valid_snapshot_id(record.below))
        reader.fail("snapshot id " + quoted(record.below) + " of the overlay below is malformed");
    std::vector<xmlNode*> set = doc.select("/virtsnap-state/set");
    if (set.size() > 1)
        reader.fail("more than one <set>");
    if (!set.empty()) {
        record.set_dir = reader.required(set.front(), "path");
        reader.clean_path(record.set_dir, "backup set");
    }
    reader.one("/virtsnap-state/disks", "<disks>");
    std::set<std::string> targets;
    for (xmlNode* node : doc.select("/virtsnap-state/disks/disk")) {
        record.disks.push_back(xml::read_snapshot_disk(reader, node, false));
        if (!targets.insert(record.disks.back().target).second)
            reader.fail("disk " + quoted(record.disks.back().target) + " appears twice");
    }
    return record;
}

void save_state(const std::string& state_dir, const StateRecord& record) {
    const std::string path = state_path(state_dir, record.domain_uuid);
    ensure_private_directory(state_dir);
    write_durable(path, to_xml(record));
}

std::optional<StateRecord> load_state(const std::string& state_dir, const std::string& domain_uuid) {
    const std::string path = state_path(state_dir, domain_uuid);
    const std::string what = "state record " + quoted(path);
    std::optional<std::string> text =
        util::read_strict_file_if_exists(AT_FDCWD, path, util::state_record_size_limit, what);
    if (!text)
        return std::nullopt;
    StateRecord record = parse_state_record(*text, what);
    if (record.domain_uuid != domain_uuid)
        throw util::InputError(what + " belongs to domain UUID " + record.domain_uuid);
    return record;
}

void remove_state(const std::string& state_dir, const std::string& domain_uuid) {
    remove_durable(state_path(state_dir, domain_uuid));
}

} // namespace virtsnap::store
