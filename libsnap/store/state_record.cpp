#include "store/state_record.hpp"

#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "xml/document.hpp"

namespace virtsnap::store {

using xml::xml_chars;

const char* to_string(Stage stage) {
    switch (stage) {
    case Stage::prepared:
        return "prepared";
    case Stage::snapshotted:
        return "snapshotted";
    case Stage::committing:
        return "committing";
    }
    return "unknown";
}

std::string state_path(const std::string& state_dir, const std::string& domain_uuid) {
    if (!xml::is_valid_uuid(domain_uuid))
        throw util::Error("state_path: malformed domain UUID " + util::quoted(domain_uuid));
    return state_dir + "/" + domain_uuid + ".state";
}

void save_state(const std::string& state_dir, const StateRecord& record) {
    // The record is the manifest with one more element, <journal stage=.../>,
    // which manifest readers ignore.
    const std::string path = state_path(state_dir, record.manifest.domain_uuid);
    xml::Document doc = xml::Document::parse(xml::to_xml(record.manifest), path);
    xmlNode* journal = xmlNewChild(doc.root(), nullptr, xml_chars("journal"), nullptr);
    xmlNewProp(journal, xml_chars("stage"), xml_chars(to_string(record.stage)));
    ensure_private_directory(state_dir);
    write_durable(path, xml::serialize(doc.root()->doc));
}

std::optional<StateRecord> load_state(const std::string& state_dir, const std::string& domain_uuid) {
    const std::string path = state_path(state_dir, domain_uuid);
    std::optional<std::string> text = read_if_exists(path);
    if (!text)
        return std::nullopt;
    const std::string what = "state record " + util::quoted(path);
    StateRecord record;
    record.manifest = xml::parse_manifest(*text, what);
    if (record.manifest.domain_uuid != domain_uuid)
        throw util::InputError(what + " belongs to domain UUID " + record.manifest.domain_uuid);
    xml::Document doc = xml::Document::parse(*text, what);
    xmlNode* journal = doc.select_one("/virtsnap-manifest/journal");
    std::string stage = journal ? xml::attribute_or(journal, "stage", "") : "";
    if (stage == "prepared")
        record.stage = Stage::prepared;
    else if (stage == "snapshotted")
        record.stage = Stage::snapshotted;
    else if (stage == "committing")
        record.stage = Stage::committing;
    else
        throw util::InputError(what + " has no valid <journal stage=...> (found " + util::quoted(stage) +
                               ")");
    return record;
}

void remove_state(const std::string& state_dir, const std::string& domain_uuid) {
    remove_durable(state_path(state_dir, domain_uuid));
}

} // namespace virtsnap::store
