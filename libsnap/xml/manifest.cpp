#include "xml/manifest.hpp"

#include "util/error.hpp"
#include "xml/document.hpp"
#include "xml/field_reader.hpp"

#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

namespace virtsnap::xml {

// The schema's text, compiled in from schemas/manifest.rng (generated).
extern const char* const manifest_schema_source;

using util::quoted;

namespace {

constexpr const char* root_name = "virtsnap-manifest";
constexpr const char* format_version = "1";
constexpr const char* kind = "virtsnap manifest";

const Schema& manifest_schema() {
    static const Schema schema(manifest_schema_text(), "the manifest schema");
    return schema;
}

std::optional<Qcow2Options> parse_qcow2_options(const FieldReader& reader, const xmlNode* node,
                                                const std::string& where) {
    if (!node)
        return std::nullopt;
    Qcow2Options options;
    options.cluster_size = reader.size(reader.required(node, "cluster-size"), where + ": cluster-size");
    options.compat = reader.required(node, "compat");
    if (options.compat != "1.1" && options.compat != "0.10")
        reader.fail(where + ": compat " + quoted(options.compat) + " is not 0.10 or 1.1");
    options.lazy_refcounts =
        reader.yes_no(reader.required(node, "lazy-refcounts"), where + ": lazy-refcounts");
    options.extended_l2 = reader.yes_no(reader.required(node, "extended-l2"), where + ": extended-l2");
    return options;
}

BackupFile parse_backup_file(const FieldReader& reader, xmlNode* node, const std::string& where,
                             std::uint64_t chunk_size, std::uint64_t virtual_size) {
    BackupFile file;
    file.name = reader.required(node, "name");
    if (!is_plain_file_name(file.name))
        reader.fail(where + ": backup file name " + quoted(file.name) + " is not a plain file name");
    if (std::optional<std::string> backing = attribute(node, "backing")) {
        file.backing = *backing;
        if (!is_plain_file_name(file.backing))
            reader.fail(where + ": backing file name " + quoted(file.backing) + " is not a plain file name");
    }
    if (std::optional<std::string> set = attribute(node, "backing-set")) {
        file.backing_set = *set;
        if (!is_valid_snapshot_id(file.backing_set))
            reader.fail(where + ": backing set " + quoted(file.backing_set) + " is not a set id");
        if (file.backing.empty())
            reader.fail(where + ": a backing set without a backing file");
    }
    file.allocated = reader.size(reader.required(node, "allocated"), where + ": allocated");
    file.data_bytes = reader.size(reader.required(node, "data-bytes"), where + ": data-bytes");
    // Data bytes count the disk's non-zero content: never more than the disk.
    if (file.data_bytes > virtual_size)
        reader.fail(where + ": data-bytes " + std::to_string(file.data_bytes) + " exceed the disk's size " +
                    std::to_string(virtual_size));
    file.checksum = reader.required(node, "checksum");
    if (!is_valid_checksum(file.checksum))
        reader.fail(where + ": checksum " + quoted(file.checksum) + " is malformed");
    std::optional<std::uint64_t> previous;
    for (xmlNode* chunk : reader.doc().select("chunk", node)) {
        ChunkChecksum sum{reader.size(reader.required(chunk, "offset"), where + ": chunk offset"),
                          reader.required(chunk, "checksum")};
        if (sum.offset % chunk_size != 0 || (previous && sum.offset <= *previous))
            reader.fail(where + ": chunk offset " + std::to_string(sum.offset) +
                        " is not a chunk boundary in increasing order");
        if (sum.offset >= virtual_size)
            reader.fail(where + ": chunk offset " + std::to_string(sum.offset) +
                        " lies beyond the disk's end");
        if (!is_valid_checksum(sum.hash))
            reader.fail(where + ": chunk checksum " + quoted(sum.hash) + " is malformed");
        previous = sum.offset;
        file.chunks.push_back(std::move(sum));
    }
    return file;
}

std::optional<DiskBackup> parse_backup(const FieldReader& reader, xmlNode* disk_node,
                                       const std::string& where, const std::string& target,
                                       std::uint64_t virtual_size) {
    xmlNode* node = child_element(disk_node, "backup");
    if (!node)
        return std::nullopt;
    DiskBackup backup;
    backup.format = reader.required(node, "format");
    if (backup.format != "qcow2" && backup.format != "raw")
        reader.fail(where + ": backup format " + quoted(backup.format) + " is not qcow2 or raw");
    backup.flattened = reader.yes_no(reader.required(node, "flattened"), where + ": flattened");
    backup.compressed = reader.yes_no(reader.required(node, "compressed"), where + ": compressed");
    backup.chunk_size = reader.size(reader.required(node, "chunk-size"), where + ": chunk-size");
    if (backup.chunk_size < 4096 || backup.chunk_size % 4096 != 0 || backup.chunk_size > (1ULL << 34))
        reader.fail(where + ": chunk-size " + std::to_string(backup.chunk_size) +
                    " is not a multiple of 4096");
    backup.source_options = parse_qcow2_options(reader, child_element(node, "source-options"), where);
    std::set<std::string> names;
    for (xmlNode* file : reader.doc().select("file", node)) {
        backup.files.push_back(parse_backup_file(reader, file, where, backup.chunk_size, virtual_size));
        if (!names.insert(backup.files.back().name).second)
            reader.fail(where + ": backup file " + quoted(backup.files.back().name) + " appears twice");
    }
    if (backup.files.empty())
        reader.fail(where + ": <backup> names no file");
    for (size_t i = 0; i < backup.files.size(); ++i) {
        const bool last = i + 1 == backup.files.size();
        if (!backup.files[i].backing_set.empty()) {
            // An incremental layer: one file, backed by its parent set's
            // image, by the name virtsnap gives that (checked with the level).
            if (!last || backup.files.size() != 1 || backup.format != "qcow2" || backup.flattened)
                reader.fail(where + ": only an unflattened qcow2 backup of one file has a backing set");
            if (backup.files[i].backing != backup_file_names(target, "qcow2", 1)[0] &&
                backup.files[i].backing != backup_file_names(target, "raw", 1)[0])
                reader.fail(where + ": backing file " + quoted(backup.files[i].backing) + " in set " +
                            backup.files[i].backing_set + " is not a name virtsnap gives disk " + target);
            continue;
        }
        const std::string expected = !last ? backup.files[i + 1].name : "";
        if (backup.files[i].backing != expected)
            reader.fail(where + ": backup file " + quoted(backup.files[i].name) +
                        " does not name the next file as its backing");
    }
    // Only the names virtsnap gives: a name QEMU would take for something
    // else (json:{...}, a protocol prefix) can never be a set's file, nor
    // the backing name a layer's header must carry.
    const std::vector<std::string> expected = backup_file_names(target, backup.format, backup.files.size());
    for (size_t i = 0; i < backup.files.size(); ++i)
        if (backup.files[i].name != expected[i])
            reader.fail(where + ": backup file name " + quoted(backup.files[i].name) + " is not " +
                        quoted(expected[i]) + ", the name virtsnap gives it");
    if (backup.flattened && backup.files.size() != 1)
        reader.fail(where + ": a flattened backup is one file, not " + std::to_string(backup.files.size()));
    if (const xmlNode* sums = child_element(node, "block-sums")) {
        BlockSumsFile file;
        file.name = reader.required(sums, "name");
        if (file.name != block_sums_file_name(target))
            reader.fail(where + ": block sums file " + quoted(file.name) + " is not " +
                        quoted(block_sums_file_name(target)) + ", the name virtsnap gives it");
        file.block_size = reader.size(reader.required(sums, "block-size"), where + ": block-sums block-size");
        if (file.block_size != 65536)
            reader.fail(where + ": block sums of " + std::to_string(file.block_size) +
                        "-byte blocks (virtsnap keeps them of 65536)");
        file.checksum = reader.required(sums, "checksum");
        if (!is_valid_checksum(file.checksum))
            reader.fail(where + ": block sums checksum " + quoted(file.checksum) + " is malformed");
        backup.block_sums = std::move(file);
    }
    if (backup.format == "raw" && backup.files.size() != 1)
        reader.fail(where + ": a raw backup has no layers");
    return backup;
}

ManifestDisk parse_disk(const FieldReader& reader, xmlNode* node, bool offline) {
    ManifestDisk disk;
    static_cast<SnapshotDisk&>(disk) = read_snapshot_disk(reader, node, offline);
    const std::string where = "disk " + quoted(disk.target);
    disk.backup = parse_backup(reader, node, where, disk.target, disk.virtual_size);
    for (xmlNode* check : reader.doc().select("verification", node)) {
        Verification verification{reader.required(check, "kind"), reader.required(check, "result"),
                                  text_of(check)};
        if (verification.result != "ok" && verification.result != "mismatch")
            reader.fail(where + ": verification result " + quoted(verification.result) +
                        " is not ok or mismatch");
        disk.verifications.push_back(std::move(verification));
    }
    return disk;
}

// <level>: what virtsnap-backup --level made, and how an incremental set
// hangs on its parent. Read after the disks, whose backups it constrains.
void read_level(const FieldReader& reader, Manifest& manifest) {
    std::vector<xmlNode*> nodes = reader.doc().select("/virtsnap-manifest/level");
    if (nodes.size() > 1)
        reader.fail("more than one <level>");
    if (!nodes.empty()) {
        manifest.level = reader.required(nodes.front(), "kind");
        if (manifest.level != "copy" && manifest.level != "full" && manifest.level != "inc" &&
            manifest.level != "diff")
            reader.fail("level " + quoted(manifest.level) + " is not copy, full, inc or diff");
        manifest.parent = attribute(nodes.front(), "parent").value_or("");
        manifest.level_reason = attribute(nodes.front(), "reason").value_or("");
        if (std::optional<std::string> by = attribute(nodes.front(), "by")) {
            if (*by != "content")
                reader.fail("level basis " + quoted(*by) + " is not content");
            manifest.by_content = true;
        }
    }
    const bool inc = manifest.on_parent();
    if (inc != !manifest.parent.empty())
        reader.fail(inc ? "an incremental set names no parent set"
                        : "only an incremental set has a parent set");
    if (manifest.by_content && !inc)
        reader.fail("only an incremental set is taken by content");
    if (inc && (!is_valid_snapshot_id(manifest.parent) || manifest.parent >= manifest.snapshot_id))
        reader.fail("parent set " + quoted(manifest.parent) + " is not the id of an earlier set");
    for (const ManifestDisk& disk : manifest.disks) {
        if (!disk.backup)
            continue;
        const std::string& below = disk.backup->files.back().backing_set;
        if (inc && below != manifest.parent)
            reader.fail("disk " + quoted(disk.target) +
                        " of an incremental set is not backed by its parent set " + manifest.parent);
        if (!inc && !below.empty())
            reader.fail("disk " + quoted(disk.target) +
                        " names a backing set, but the set is not incremental");
    }
}

void add_backup(xmlNode* disk_node, const DiskBackup& backup) {
    xmlNode* node = add_element(disk_node, "backup");
    set_attribute(node, "format", backup.format);
    set_attribute(node, "flattened", backup.flattened ? "yes" : "no");
    set_attribute(node, "compressed", backup.compressed ? "yes" : "no");
    set_attribute(node, "chunk-size", std::to_string(backup.chunk_size));
    if (backup.source_options) {
        xmlNode* options = add_element(node, "source-options");
        set_attribute(options, "cluster-size", std::to_string(backup.source_options->cluster_size));
        set_attribute(options, "compat", backup.source_options->compat);
        set_attribute(options, "lazy-refcounts", backup.source_options->lazy_refcounts ? "yes" : "no");
        set_attribute(options, "extended-l2", backup.source_options->extended_l2 ? "yes" : "no");
    }
    for (const BackupFile& file : backup.files) {
        xmlNode* entry = add_element(node, "file");
        set_attribute(entry, "name", file.name);
        if (!file.backing.empty())
            set_attribute(entry, "backing", file.backing);
        if (!file.backing_set.empty())
            set_attribute(entry, "backing-set", file.backing_set);
        set_attribute(entry, "allocated", std::to_string(file.allocated));
        set_attribute(entry, "data-bytes", std::to_string(file.data_bytes));
        set_attribute(entry, "checksum", file.checksum);
        for (const ChunkChecksum& chunk : file.chunks) {
            xmlNode* sum = add_element(entry, "chunk");
            set_attribute(sum, "offset", std::to_string(chunk.offset));
            set_attribute(sum, "checksum", chunk.hash);
        }
    }
    if (backup.block_sums) {
        xmlNode* sums = add_element(node, "block-sums");
        set_attribute(sums, "name", backup.block_sums->name);
        set_attribute(sums, "block-size", std::to_string(backup.block_sums->block_size));
        set_attribute(sums, "checksum", backup.block_sums->checksum);
    }
}

} // namespace

const std::string& manifest_schema_text() {
    static const std::string text = manifest_schema_source;
    return text;
}

const ManifestDisk* Manifest::find_disk(const std::string& target) const {
    for (const ManifestDisk& disk : disks)
        if (disk.target == target)
            return &disk;
    return nullptr;
}

bool is_valid_snapshot_id(const std::string& id) {
    // The id becomes part of file names: letters, digits, '-' and '_' only.
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
}

bool is_valid_uuid(const std::string& uuid) {
    if (uuid.size() != 36)
        return false;
    for (size_t i = 0; i < uuid.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? uuid[i] != '-' : !std::isxdigit(static_cast<unsigned char>(uuid[i])))
            return false;
    }
    return true;
}

bool is_valid_checksum(const std::string& checksum) {
    static const std::string prefix = "xxh3-128:";
    return checksum.size() == prefix.size() + 32 && checksum.compare(0, prefix.size(), prefix) == 0 &&
           std::all_of(
               checksum.begin() + static_cast<std::ptrdiff_t>(prefix.size()), checksum.end(),
               [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f'); });
}

std::vector<std::string> backup_file_names(const std::string& target, const std::string& format,
                                           std::size_t layers) {
    std::vector<std::string> names{target + "." + format};
    for (std::size_t i = 1; i < layers; ++i)
        names.push_back(target + "." + std::to_string(i) + ".qcow2");
    return names;
}

std::string block_sums_file_name(const std::string& target) {
    return target + ".blocks";
}

bool is_plain_file_name(const std::string& name) {
    return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
           name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

std::string to_xml(const Manifest& manifest) {
    DocPtr doc(xmlNewDoc(xml_chars("1.0")));
    xmlNode* root = xmlNewNode(nullptr, xml_chars(root_name));
    xmlDocSetRootElement(doc.get(), root);
    set_attribute(root, "version", format_version);

    xmlNode* domain = add_element(root, "domain");
    set_attribute(domain, "name", manifest.domain_name);
    set_attribute(domain, "uuid", manifest.domain_uuid);

    xmlNode* snapshot = add_element(root, "snapshot");
    set_attribute(snapshot, "id", manifest.snapshot_id);
    set_attribute(snapshot, "time", manifest.snapshot_time);
    set_attribute(snapshot, "quiesced", manifest.quiesced ? "yes" : "no");
    if (manifest.offline)
        set_attribute(snapshot, "offline", "yes");
    if (manifest.freeze_ms >= 0)
        set_attribute(snapshot, "freeze-ms", std::to_string(manifest.freeze_ms));

    if (!manifest.level.empty()) {
        xmlNode* level = add_element(root, "level");
        set_attribute(level, "kind", manifest.level);
        if (!manifest.parent.empty())
            set_attribute(level, "parent", manifest.parent);
        if (!manifest.level_reason.empty())
            set_attribute(level, "reason", manifest.level_reason);
        if (manifest.by_content)
            set_attribute(level, "by", "content");
    }

    xmlNode* disks = add_element(root, "disks");
    for (const ManifestDisk& disk : manifest.disks) {
        xmlNode* node = write_snapshot_disk(disks, disk, manifest.offline);
        if (disk.backup)
            add_backup(node, *disk.backup);
        for (const Verification& verification : disk.verifications) {
            xmlNode* check = xmlNewTextChild(node, nullptr, xml_chars("verification"),
                                             xml_chars(verification.detail.c_str()));
            set_attribute(check, "kind", verification.kind);
            set_attribute(check, "result", verification.result);
        }
    }
    if (!manifest.backup_dir.empty())
        set_attribute(add_element(root, "backup-dir"), "path", manifest.backup_dir);
    if (!manifest.failures.empty()) {
        xmlNode* failures = add_element(root, "failures");
        for (const ManifestFailure& failure : manifest.failures) {
            xmlNode* node =
                xmlNewTextChild(failures, nullptr, xml_chars("failure"), xml_chars(failure.message.c_str()));
            set_attribute(node, "tool", failure.tool);
        }
    }

    return serialize(doc.get());
}

Manifest parse_manifest(const std::string& text, const std::string& what) {
    if (text.empty())
        throw util::InputError(what + " is empty (did the tool before it in the pipeline fail to start?)");
    Document doc = Document::parse(text, what);
    FieldReader reader(doc, what, kind);
    if (element_name(doc.root()) != root_name)
        reader.fail("the root element is <" + element_name(doc.root()) + ">, not <" + root_name + ">");
    std::string version = reader.required(doc.root(), "version");
    if (version != format_version)
        reader.fail("format version " + quoted(version) + " is not supported (this virtsnap reads " +
                    format_version + ")");

    Manifest manifest;
    const xmlNode* domain = reader.one("/virtsnap-manifest/domain", "<domain>");
    manifest.domain_name = reader.required(domain, "name");
    manifest.domain_uuid = reader.required(domain, "uuid");
    if (!is_valid_uuid(manifest.domain_uuid))
        reader.fail("domain UUID " + quoted(manifest.domain_uuid) + " is malformed");

    const xmlNode* snapshot = reader.one("/virtsnap-manifest/snapshot", "<snapshot>");
    manifest.snapshot_id = reader.required(snapshot, "id");
    if (!is_valid_snapshot_id(manifest.snapshot_id))
        reader.fail("snapshot id " + quoted(manifest.snapshot_id) + " is malformed");
    manifest.snapshot_time = reader.required(snapshot, "time");
    manifest.quiesced = reader.yes_no(reader.required(snapshot, "quiesced"), "quiesced");
    if (std::optional<std::string> freeze = attribute(snapshot, "freeze-ms")) {
        std::uint64_t ms = reader.size(*freeze, "freeze-ms");
        if (ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            reader.fail("freeze-ms is out of range");
        manifest.freeze_ms = static_cast<std::int64_t>(ms);
    }

    if (std::optional<std::string> offline = attribute(snapshot, "offline"))
        manifest.offline = reader.yes_no(*offline, "offline");
    if (manifest.offline && (manifest.quiesced || manifest.freeze_ms >= 0))
        reader.fail("an offline backup is neither quiesced nor frozen");

    reader.one("/virtsnap-manifest/disks", "<disks>");
    std::set<std::string> targets, overlays;
    for (xmlNode* node : doc.select("/virtsnap-manifest/disks/disk")) {
        ManifestDisk disk = parse_disk(reader, node, manifest.offline);
        if (!targets.insert(disk.target).second)
            reader.fail("disk " + quoted(disk.target) + " appears twice");
        if (!manifest.offline && !overlays.insert(disk.overlay).second)
            reader.fail("overlay " + quoted(disk.overlay) + " is named by two disks");
        manifest.disks.push_back(std::move(disk));
    }
    read_level(reader, manifest);
    std::vector<xmlNode*> backup_dir = doc.select("/virtsnap-manifest/backup-dir");
    if (backup_dir.size() > 1)
        reader.fail("more than one <backup-dir>");
    if (!backup_dir.empty()) {
        manifest.backup_dir = reader.required(backup_dir.front(), "path");
        reader.clean_path(manifest.backup_dir, "backup directory");
    }
    for (xmlNode* node : doc.select("/virtsnap-manifest/failures/failure"))
        manifest.failures.push_back({reader.required(node, "tool"), text_of(node)});
    // Everything read above is checked; the schema refuses what was not
    // read at all (an unknown element or attribute, a misplaced one).
    doc.validate(manifest_schema());
    return manifest;
}

} // namespace virtsnap::xml
