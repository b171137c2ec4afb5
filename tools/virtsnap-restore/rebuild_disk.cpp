#include "rebuild_disk.hpp"

#include "util/error.hpp"
#include "verify/checksum_check.hpp"

namespace virtsnap::restore {

using util::quoted;

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
        verify::CheckOutcome outcome =
            verify::compare_checksums(backup.files.front(), written.files.front(), backup.chunk_size);
        if (!outcome.ok)
            throw util::VerificationMismatch(label + ": " + outcome.detail + "; nothing was restored");
    }
    return dir + "/" + written.files.front().name;
}

} // namespace virtsnap::restore
