#include "xml/manifest.hpp"

#include "util/error.hpp"
#include "xml/document.hpp"

#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

namespace virtsnap::xml {

using util::InputError;
using util::quoted;

namespace {

constexpr const char* root_name = "virtsnap-manifest";
constexpr const char* format_version = "1";

xmlNode* add_child(xmlNode* parent, const char* name) {
    return xmlNewChild(parent, nullptr, xml_chars(name), nullptr);
}

void set(xmlNode* node, const char* name, const std::string& value) {
    xmlNewProp(node, xml_chars(name), xml_chars(value.c_str()));
}

// Absolute, no NUL, no "." or ".." component: a manifest cannot steer a tool
// to a path by traversal.
bool is_clean_absolute_path(const std::string& path) {
    if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos || path.size() > 4096)
        return false;
    size_t start = 1;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos)
            end = path.size();
        std::string part = path.substr(start, end - start);
        if (part == "." || part == "..")
            return false;
        start = end + 1;
    }
    return path.back() != '/';
}

bool is_known_format(const std::string& format) {
    static const std::set<std::string> formats{"raw", "qcow2", "qed", "vmdk", "vdi", "vpc", "vhdx"};
    return formats.count(format) == 1;
}

class Reader {
  public:
    Reader(const Document& doc, std::string what) : doc_(doc), what_(std::move(what)) {}

    std::string required(const xmlNode* node, const char* name) const {
        std::optional<std::string> value = attribute(node, name);
        if (!value || value->empty())
            fail("<" + element_name(node) + "> lacks the attribute " + name);
        return *value;
    }

    const xmlNode* one(const char* xpath, const char* description) const {
        std::vector<xmlNode*> nodes = doc_.select(xpath);
        if (nodes.size() != 1)
            fail("expected exactly one " + std::string(description) + ", found " +
                 std::to_string(nodes.size()));
        return nodes.front();
    }

    [[noreturn]] void fail(const std::string& problem) const {
        throw InputError(what_ + " is not a valid virtsnap manifest: " + problem);
    }

  private:
    const Document& doc_;
    std::string what_;
};

std::uint64_t parse_size(const Reader& reader, const std::string& text, const std::string& field) {
    if (text.empty() || text.size() > 20 || !std::all_of(text.begin(), text.end(), ::isdigit))
        reader.fail(field + " " + quoted(text) + " is not a whole number");
    try {
        return static_cast<std::uint64_t>(std::stoull(text));
    } catch (const std::out_of_range&) {
        reader.fail(field + " " + quoted(text) + " is out of range");
    }
}

bool parse_yes_no(const Reader& reader, const std::string& text, const std::string& field) {
    if (text == "yes")
        return true;
    if (text == "no")
        return false;
    reader.fail(field + " must be yes or no, not " + quoted(text));
}

void check_path(const Reader& reader, const std::string& path, const std::string& field) {
    if (!is_clean_absolute_path(path))
        reader.fail(field + " " + quoted(path) + " is not a clean absolute path");
}

void check_format(const Reader& reader, const std::string& format, const std::string& field) {
    if (!is_known_format(format))
        reader.fail(field + " " + quoted(format) + " is not a disk image format virtsnap knows");
}

std::optional<Qcow2Options> parse_qcow2_options(const Reader& reader, const xmlNode* node,
                                                const std::string& where) {
    if (!node)
        return std::nullopt;
    Qcow2Options options;
    options.cluster_size =
        parse_size(reader, reader.required(node, "cluster-size"), where + ": cluster-size");
    options.compat = reader.required(node, "compat");
    if (options.compat != "1.1" && options.compat != "0.10")
        reader.fail(where + ": compat " + quoted(options.compat) + " is not 0.10 or 1.1");
    options.lazy_refcounts =
        parse_yes_no(reader, reader.required(node, "lazy-refcounts"), where + ": lazy-refcounts");
    options.extended_l2 = parse_yes_no(reader, reader.required(node, "extended-l2"), where + ": extended-l2");
    return options;
}

BackupFile parse_backup_file(const Document& doc, const Reader& reader, xmlNode* node,
                             const std::string& where, std::uint64_t chunk_size) {
    BackupFile file;
    file.name = reader.required(node, "name");
    if (!is_plain_file_name(file.name))
        reader.fail(where + ": backup file name " + quoted(file.name) + " is not a plain file name");
    if (std::optional<std::string> backing = attribute(node, "backing")) {
        file.backing = *backing;
        if (!is_plain_file_name(file.backing))
            reader.fail(where + ": backing file name " + quoted(file.backing) + " is not a plain file name");
    }
    file.allocated = parse_size(reader, reader.required(node, "allocated"), where + ": allocated");
    file.data_bytes = parse_size(reader, reader.required(node, "data-bytes"), where + ": data-bytes");
    file.checksum = reader.required(node, "checksum");
    if (!is_valid_checksum(file.checksum))
        reader.fail(where + ": checksum " + quoted(file.checksum) + " is malformed");
    std::optional<std::uint64_t> previous;
    for (xmlNode* chunk : doc.select("chunk", node)) {
        ChunkChecksum sum{parse_size(reader, reader.required(chunk, "offset"), where + ": chunk offset"),
                          reader.required(chunk, "checksum")};
        if (sum.offset % chunk_size != 0 || (previous && sum.offset <= *previous))
            reader.fail(where + ": chunk offset " + std::to_string(sum.offset) +
                        " is not a chunk boundary in increasing order");
        if (!is_valid_checksum(sum.hash))
            reader.fail(where + ": chunk checksum " + quoted(sum.hash) + " is malformed");
        previous = sum.offset;
        file.chunks.push_back(std::move(sum));
    }
    return file;
}

std::optional<DiskBackup> parse_backup(const Document& doc, const Reader& reader, xmlNode* disk_node,
                                       const std::string& where) {
    xmlNode* node = child_element(disk_node, "backup");
    if (!node)
        return std::nullopt;
    DiskBackup backup;
    backup.format = reader.required(node, "format");
    if (backup.format != "qcow2" && backup.format != "raw")
        reader.fail(where + ": backup format " + quoted(backup.format) + " is not qcow2 or raw");
    backup.flattened = parse_yes_no(reader, reader.required(node, "flattened"), where + ": flattened");
    backup.compressed = parse_yes_no(reader, reader.required(node, "compressed"), where + ": compressed");
    backup.chunk_size = parse_size(reader, reader.required(node, "chunk-size"), where + ": chunk-size");
    if (backup.chunk_size < 4096 || backup.chunk_size % 4096 != 0 || backup.chunk_size > (1ULL << 34))
        reader.fail(where + ": chunk-size " + std::to_string(backup.chunk_size) +
                    " is not a multiple of 4096");
    backup.source_options = parse_qcow2_options(reader, child_element(node, "source-options"), where);
    std::set<std::string> names;
    for (xmlNode* file : doc.select("file", node)) {
        backup.files.push_back(parse_backup_file(doc, reader, file, where, backup.chunk_size));
        if (!names.insert(backup.files.back().name).second)
            reader.fail(where + ": backup file " + quoted(backup.files.back().name) + " appears twice");
    }
    if (backup.files.empty())
        reader.fail(where + ": <backup> names no file");
    for (size_t i = 0; i < backup.files.size(); ++i) {
        const std::string expected = i + 1 < backup.files.size() ? backup.files[i + 1].name : "";
        if (backup.files[i].backing != expected)
            reader.fail(where + ": backup file " + quoted(backup.files[i].name) +
                        " does not name the next file as its backing");
    }
    return backup;
}

ManifestDisk parse_disk(const Document& doc, const Reader& reader, xmlNode* node, bool offline) {
    ManifestDisk disk;
    disk.target = reader.required(node, "target");
    if (!is_valid_target(disk.target))
        reader.fail("disk target " + quoted(disk.target) + " is not a valid target name");
    const std::string where = "disk " + quoted(disk.target);
    disk.source_type = reader.required(node, "type");
    if (disk.source_type != "file" && disk.source_type != "block")
        reader.fail(where + ": type must be file or block, not " + quoted(disk.source_type));
    disk.format = reader.required(node, "format");
    check_format(reader, disk.format, where + ": format");
    disk.virtual_size = parse_size(reader, reader.required(node, "virtual-size"), where + ": virtual-size");

    xmlNode* frozen = child_element(node, "frozen");
    xmlNode* overlay = child_element(node, "overlay");
    if (!frozen || (!overlay && !offline))
        reader.fail(where + " lacks <frozen> or <overlay>");
    if (overlay && offline)
        reader.fail(where + ": an offline backup has no overlay");
    disk.frozen = reader.required(frozen, "path");
    check_path(reader, disk.frozen, where + ": frozen image");
    if (overlay) {
        disk.overlay = reader.required(overlay, "path");
        check_path(reader, disk.overlay, where + ": overlay");
        if (disk.overlay == disk.frozen)
            reader.fail(where + ": the overlay is the frozen image itself");
    }

    for (xmlNode* image : doc.select("chain/image", node)) {
        ChainImage entry{reader.required(image, "path"), reader.required(image, "format")};
        check_path(reader, entry.path, where + ": chain image");
        check_format(reader, entry.format, where + ": chain image format");
        if (!disk.overlay.empty() && entry.path == disk.overlay)
            reader.fail(where + ": the overlay appears in its own backing chain");
        disk.chain.push_back(std::move(entry));
    }
    disk.backup = parse_backup(doc, reader, node, where);
    for (xmlNode* check : doc.select("verification", node)) {
        Verification verification{reader.required(check, "kind"), reader.required(check, "result"),
                                  text_of(check)};
        if (verification.result != "ok" && verification.result != "mismatch")
            reader.fail(where + ": verification result " + quoted(verification.result) +
                        " is not ok or mismatch");
        disk.verifications.push_back(std::move(verification));
    }
    return disk;
}

} // namespace

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

bool is_valid_target(const std::string& target) {
    return !target.empty() && target.size() <= 32 && std::all_of(target.begin(), target.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c));
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

bool is_plain_file_name(const std::string& name) {
    return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
           name.find('/') == std::string::npos && name.find('\0') == std::string::npos;
}

namespace {

void add_backup(xmlNode* disk_node, const DiskBackup& backup) {
    xmlNode* node = add_child(disk_node, "backup");
    set(node, "format", backup.format);
    set(node, "flattened", backup.flattened ? "yes" : "no");
    set(node, "compressed", backup.compressed ? "yes" : "no");
    set(node, "chunk-size", std::to_string(backup.chunk_size));
    if (backup.source_options) {
        xmlNode* options = add_child(node, "source-options");
        set(options, "cluster-size", std::to_string(backup.source_options->cluster_size));
        set(options, "compat", backup.source_options->compat);
        set(options, "lazy-refcounts", backup.source_options->lazy_refcounts ? "yes" : "no");
        set(options, "extended-l2", backup.source_options->extended_l2 ? "yes" : "no");
    }
    for (const BackupFile& file : backup.files) {
        xmlNode* entry = add_child(node, "file");
        set(entry, "name", file.name);
        if (!file.backing.empty())
            set(entry, "backing", file.backing);
        set(entry, "allocated", std::to_string(file.allocated));
        set(entry, "data-bytes", std::to_string(file.data_bytes));
        set(entry, "checksum", file.checksum);
        for (const ChunkChecksum& chunk : file.chunks) {
            xmlNode* sum = add_child(entry, "chunk");
            set(sum, "offset", std::to_string(chunk.offset));
            set(sum, "checksum", chunk.hash);
        }
    }
}

} // namespace

std::string to_xml(const Manifest& manifest) {
    DocPtr doc(xmlNewDoc(xml_chars("1.0")));
    xmlNode* root = xmlNewNode(nullptr, xml_chars(root_name));
    xmlDocSetRootElement(doc.get(), root);
    set(root, "version", format_version);

    xmlNode* domain = add_child(root, "domain");
    set(domain, "name", manifest.domain_name);
    set(domain, "uuid", manifest.domain_uuid);

    xmlNode* snapshot = add_child(root, "snapshot");
    set(snapshot, "id", manifest.snapshot_id);
    set(snapshot, "time", manifest.snapshot_time);
    set(snapshot, "quiesced", manifest.quiesced ? "yes" : "no");
    if (manifest.offline)
        set(snapshot, "offline", "yes");
    if (manifest.freeze_ms >= 0)
        set(snapshot, "freeze-ms", std::to_string(manifest.freeze_ms));

    xmlNode* disks = add_child(root, "disks");
    for (const ManifestDisk& disk : manifest.disks) {
        xmlNode* node = add_child(disks, "disk");
        set(node, "target", disk.target);
        set(node, "type", disk.source_type);
        set(node, "format", disk.format);
        set(node, "virtual-size", std::to_string(disk.virtual_size));
        set(add_child(node, "frozen"), "path", disk.frozen);
        if (!manifest.offline)
            set(add_child(node, "overlay"), "path", disk.overlay);
        xmlNode* chain = add_child(node, "chain");
        for (const ChainImage& image : disk.chain) {
            xmlNode* entry = add_child(chain, "image");
            set(entry, "path", image.path);
            set(entry, "format", image.format);
        }
        if (disk.backup)
            add_backup(node, *disk.backup);
        for (const Verification& verification : disk.verifications) {
            xmlNode* check = xmlNewTextChild(node, nullptr, xml_chars("verification"),
                                             xml_chars(verification.detail.c_str()));
            set(check, "kind", verification.kind);
            set(check, "result", verification.result);
        }
    }
    if (!manifest.backup_dir.empty())
        set(add_child(root, "backup-dir"), "path", manifest.backup_dir);
    if (!manifest.failures.empty()) {
        xmlNode* failures = add_child(root, "failures");
        for (const ManifestFailure& failure : manifest.failures) {
            xmlNode* node =
                xmlNewTextChild(failures, nullptr, xml_chars("failure"), xml_chars(failure.message.c_str()));
            set(node, "tool", failure.tool);
        }
    }

    return serialize(doc.get());
}

Manifest parse_manifest(const std::string& text, const std::string& what) {
    if (text.empty())
        throw InputError(what + " is empty (did the tool before it in the pipeline fail to start?)");
    Document doc = Document::parse(text, what);
    Reader reader(doc, what);
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
    manifest.quiesced = parse_yes_no(reader, reader.required(snapshot, "quiesced"), "quiesced");
    if (std::optional<std::string> freeze = attribute(snapshot, "freeze-ms")) {
        std::uint64_t ms = parse_size(reader, *freeze, "freeze-ms");
        if (ms > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            reader.fail("freeze-ms is out of range");
        manifest.freeze_ms = static_cast<std::int64_t>(ms);
    }

    if (std::optional<std::string> offline = attribute(snapshot, "offline"))
        manifest.offline = parse_yes_no(reader, *offline, "offline");
    if (manifest.offline && (manifest.quiesced || manifest.freeze_ms >= 0))
        reader.fail("an offline backup is neither quiesced nor frozen");

    reader.one("/virtsnap-manifest/disks", "<disks>");
    std::set<std::string> targets, overlays;
    for (xmlNode* node : doc.select("/virtsnap-manifest/disks/disk")) {
        ManifestDisk disk = parse_disk(doc, reader, node, manifest.offline);
        if (!targets.insert(disk.target).second)
            reader.fail("disk " + quoted(disk.target) + " appears twice");
        if (!manifest.offline && !overlays.insert(disk.overlay).second)
            reader.fail("overlay " + quoted(disk.overlay) + " is named by two disks");
        manifest.disks.push_back(std::move(disk));
    }
    std::vector<xmlNode*> backup_dir = doc.select("/virtsnap-manifest/backup-dir");
    if (backup_dir.size() > 1)
        reader.fail("more than one <backup-dir>");
    if (!backup_dir.empty()) {
        manifest.backup_dir = reader.required(backup_dir.front(), "path");
        check_path(reader, manifest.backup_dir, "backup directory");
    }
    for (xmlNode* node : doc.select("/virtsnap-manifest/failures/failure"))
        manifest.failures.push_back({reader.required(node, "tool"), text_of(node)});
    return manifest;
}

} // namespace virtsnap::xml
