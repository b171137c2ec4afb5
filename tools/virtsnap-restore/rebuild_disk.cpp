#include "rebuild_disk.hpp"

#include "util/error.hpp"
#include "verify/checksum_check.hpp"

#include <map>

namespace virtsnap::restore {

using util::quoted;

namespace {

// The offsets of the chunks whose checksums differ, as one phrase.
std::string damaged_chunks(const xml::BackupFile& recorded, const xml::BackupFile& found) {
    std::map<std::uint64_t, std::string> expected, actual;
    for (const xml::ChunkChecksum& chunk : recorded.chunks)
        expected[chunk.offset] = chunk.hash;
    for (const xml::ChunkChecksum& chunk : found.chunks)
        actual[chunk.offset] = chunk.hash;
    std::string list;
    std::size_t count = 0;
    auto add = [&](std::uint64_t offset) {
        if (++count <= 8)
            list += (list.empty() ? "" : ", ") + std::to_string(offset);
    };
    for (const auto& [offset, hash] : expected)
        if (actual.count(offset) == 0 || actual[offset] != hash)
            add(offset);
    for (const auto& [offset, hash] : actual)
        if (expected.count(offset) == 0)
            add(offset);
    if (count > 8)
        list += " (and " + std::to_string(count - 8) + " more)";
    return list;
}

} // namespace

std::string rebuild_disk(const store::BackupSet& set, const xml::ManifestDisk& disk, const std::string& dir,
                         const std::string& format, copy::CreatedFiles& created, const util::Log& log) {
    const xml::DiskBackup& backup = *disk.backup;
    const std::string label = "disk " + quoted(disk.target) + " of backup set " + quoted(set.path);
    // The backup as the source of a flattening copy: its top file, and for
    // a kept chain the layers below it.
    xml::ManifestDisk source;
    source.target = disk.target;
    source.source_type = "file";
    source.format = backup.format;
    source.frozen = set.path + "/" + backup.files.front().name;
    source.virtual_size = disk.virtual_size;
    for (size_t i = 1; i < backup.files.size(); ++i)
        source.chain.push_back({set.path + "/" + backup.files[i].name, "qcow2"});

    if (!backup.flattened) {
        // Per-layer checksums: each layer is checked before it is read
        // into the flattened image.
        for (size_t i = 0; i < backup.files.size(); ++i) {
            const std::string path = set.path + "/" + backup.files[i].name;
            verify::CheckOutcome outcome =
                verify::check_checksums(path, backup.format, true, backup.files[i], backup.chunk_size);
            if (!outcome.ok)
                throw util::VerificationMismatch(label + ": " + outcome.detail + "; nothing was restored");
        }
    }

    copy::CopySettings settings;
    settings.dir = dir;
    settings.format = format;
    settings.force = true; // existing files were checked (and --force given) before
    if (settings.format == "qcow2")
        settings.qcow2_options = backup.source_options;
    xml::DiskBackup written = copy::copy_disk(source, settings, created, log);

    if (backup.flattened) {
        const xml::BackupFile& recorded = backup.files.front();
        const xml::BackupFile& found = written.files.front();
        if (found.checksum != recorded.checksum || found.data_bytes != recorded.data_bytes)
            throw util::VerificationMismatch(
                label +
                ": its content differs from the checksums recorded at the backup in the chunk(s) at "
                "offset(s) " +
                damaged_chunks(recorded, found) + "; nothing was restored");
    }
    return dir + "/" + written.files.front().name;
}

} // namespace virtsnap::restore
