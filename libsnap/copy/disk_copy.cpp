#include "copy/disk_copy.hpp"

#include "copy/content_copier.hpp"
#include "image/content_hash.hpp"
#include "image/image_writer.hpp"
#include "image/qcow2_file_writer.hpp"
#include "store/durable_file.hpp"
#include "store/set_block_sums.hpp"
#include "store/set_layout.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/pause_point.hpp"
#include "util/phase_times.hpp"
#include "util/progress.hpp"
#include "util/subprocess.hpp"
#include "xml/snapshot_xml.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <exception>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace virtsnap::copy {

using util::quoted;

namespace {

constexpr std::uint64_t default_cluster_size = 65536;

std::optional<xml::Qcow2Options> options_of(const image::ImageInfo& info) {
    if (info.format != "qcow2")
        return std::nullopt;
    return xml::Qcow2Options{info.cluster_size ? info.cluster_size : default_cluster_size,
                             info.compat.empty() ? "1.1" : info.compat, info.lazy_refcounts,
                             info.extended_l2};
}

// qemu-img create -o for a copy keeping the source's qcow2 options.
std::string create_options(const std::optional<xml::Qcow2Options>& source) {
    if (!source)
        return "compat=1.1";
    std::string text = "cluster_size=" + std::to_string(source->cluster_size) + ",compat=" + source->compat;
    if (source->compat != "0.10") {
        text += std::string(",lazy_refcounts=") + (source->lazy_refcounts ? "on" : "off");
        text += std::string(",extended_l2=") + (source->extended_l2 ? "on" : "off");
    }
    return text;
}

// A plain version 3 qcow2 is written by virtsnap itself; compression and
// the rarer layouts (compat 0.10, extended L2 entries) go through qemu-nbd.
bool writes_qcow2_directly(const std::optional<xml::Qcow2Options>& options, const CopySettings& settings) {
    return !settings.compress && (!options || (options->compat != "0.10" && !options->extended_l2));
}

struct LayerJob {
    std::size_t layer = 0; // in the source chain
    std::vector<image::Extent> map;
    CopyPlan plan;
    std::optional<xml::Qcow2Options> options;
    std::string name;    // output file name
    std::string backing; // output backing file name, or empty
};

// sums: block sums to compute from what is copied, or null.
xml::BackupFile copy_layer(const SourceChain& source, const LayerJob& job, const CopySettings& settings,
                           const std::string& label, OutputFiles& outputs, const util::Log& log,
                           image::BlockSumsBuilder* sums = nullptr) {
    const std::string partial = outputs.dir() + "/" + store::partial_name(job.name);
    util::UniqueFd fd = outputs.create(job.name);
    // The writers close theirs when they finish; the size it took is read after.
    util::UniqueFd stat_handle(::dup(fd.get()));
    if (!stat_handle)
        throw util::SystemError("cannot use " + quoted(partial), errno);

    std::unique_ptr<image::ImageWriter> writer;
    CopyPlan plan = job.plan;
    if (settings.format == "raw") {
        writer = std::make_unique<image::RawFileWriter>(std::move(fd), partial, plan.virtual_size);
    } else if (writes_qcow2_directly(job.options, settings)) {
        image::Qcow2Layout layout;
        layout.virtual_size = plan.virtual_size;
        layout.cluster_size = job.options ? job.options->cluster_size : default_cluster_size;
        layout.lazy_refcounts = job.options && job.options->lazy_refcounts;
        layout.backing = job.backing;
        layout.backing_format = job.backing.empty() ? "" : "qcow2";
        writer = std::make_unique<image::Qcow2FileWriter>(std::move(fd), partial, layout);
        plan.zero_clusters = layout.cluster_size;
    } else {
        fd.reset();
        // Over the file made above, so the image keeps its mode 0600.
        std::vector<std::string> argv{
            "qemu-img", "create", "-q", "-f", "qcow2", "-o", create_options(job.options)};
        if (!job.backing.empty())
            argv.insert(argv.end(), {"-b", job.backing, "-F", "qcow2"});
        argv.insert(argv.end(), {partial, std::to_string(plan.virtual_size)});
        util::run_checked(argv);
        writer = std::make_unique<image::Qcow2Writer>(partial, settings.compress);
        if (settings.compress)
            plan.write_unit = job.options ? job.options->cluster_size : default_cluster_size;
    }

    std::unique_ptr<SourceReader> reader = source.reader(job.layer, job.map, settings.source_read_again);
    image::ContentHasher hasher(plan.virtual_size, image::default_chunk_size);
    hasher.set_block_sums(sums);
    util::Progress progress(log, label, true);
    const auto begin = std::chrono::steady_clock::now();
    const CopyStats stats = copy_content(plan, *reader, writer.get(), settings.checksums ? &hasher : nullptr,
                                         [&](std::uint64_t done, std::uint64_t total) {
                                             if (settings.check)
                                                 settings.check();
                                             progress.update(done, total);
                                         });
    const auto took = std::chrono::steady_clock::now() - begin;
    log.debug(label + ": copied in " + std::to_string(util::to_ms(took)) + " ms, of which " +
              std::to_string(util::to_ms(stats.hashing)) +
              " ms finding zero blocks and hashing (beside the reads or the writes) and " +
              std::to_string(util::to_ms(stats.finishing)) + " ms finishing the image (metadata, fsync)");

    struct stat st {};
    if (::fstat(stat_handle.get(), &st) != 0)
        throw util::SystemError("cannot stat " + quoted(partial), errno);
    xml::BackupFile file{job.name,
                         job.backing,
                         static_cast<std::uint64_t>(st.st_blocks) * 512,
                         hasher.data_bytes(),
                         hasher.checksum(),
                         hasher.chunks(),
                         {}};
    // Without checksums nothing counted the non-zero blocks: the data
    // ranges read say it instead (a restore of a chain).
    progress.finish(util::format_size(settings.checksums ? file.data_bytes : plan.data_length()) +
                    " of data for " + quoted(outputs.dir() + "/" + job.name));
    return file;
}

// The block sums of the whole disk, read as a flattened copy reads it
// (holes are zero) and written nowhere: what a copy by content compares.
image::BlockSums read_block_sums_of_disk(const SourceChain& source, const std::vector<image::Extent>& map,
                                         const CopySettings& settings, const std::string& label,
                                         const util::Log& log) {
    const CopyPlan plan = plan_flattened(map, source.size());
    std::unique_ptr<SourceReader> reader = source.reader(0, map);
    image::ContentHasher hasher(plan.virtual_size, image::default_chunk_size);
    image::BlockSumsBuilder sums(plan.virtual_size);
    hasher.set_block_sums(&sums, true);
    util::Progress progress(log, label + " (reading to compare)", true);
    copy_content(plan, *reader, nullptr, &hasher, [&](std::uint64_t done, std::uint64_t total) {
        if (settings.check)
            settings.check();
        progress.update(done, total);
    });
    progress.finish(util::format_size(hasher.data_bytes()) + " of data read");
    return sums.finish();
}

// What a layer's plan holds: its data and zero ranges.
std::vector<image::Extent> held_ranges(const CopyPlan& plan) {
    std::vector<image::Extent> ranges = plan.data;
    ranges.insert(ranges.end(), plan.zeroes.begin(), plan.zeroes.end());
    return merged_ranges(std::move(ranges));
}

// Writes sums beside the disk's image (unpublished) and records them.
void write_block_sums(const std::string& target, const image::BlockSums& sums, OutputFiles& outputs,
                      xml::DiskBackup& backup) {
    const std::string name = store::block_sums_file_name(target);
    const std::string bytes = sums.serialize();
    outputs.create_with(name, bytes);
    backup.block_sums = store::block_sums_record(name, bytes);
}

// A disk copy abandoned because a disk copied beside it failed.
class StoppedByOtherDisk : public util::Error {
  public:
    using util::Error::Error;
};

// The same kind of error, with the disk and the destination in front.
[[noreturn]] void rethrow_for_disk(const util::Error& error, const xml::ManifestDisk& disk,
                                   const std::string& dir) {
    const std::string message = "disk " + quoted(disk.target) + " to " + quoted(dir) + ": " + error.what();
    if (dynamic_cast<const util::Interrupted*>(&error))
        throw util::Interrupted(message);
    if (dynamic_cast<const util::RefusedError*>(&error))
        throw util::RefusedError(message);
    if (dynamic_cast<const util::InputError*>(&error))
        throw util::InputError(message);
    throw util::Error(message);
}

// What a disk's copy will read, roughly: the space its images take (a
// block device: its size). 0 when unknown.
std::uint64_t stored_bytes(const xml::ManifestDisk& disk) {
    std::vector<std::string> paths{disk.frozen};
    for (const xml::ChainImage& image : disk.chain)
        paths.push_back(image.path);
    std::uint64_t total = 0;
    for (const std::string& path : paths) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0)
            continue; // the copy itself reports it
        if (S_ISREG(st.st_mode))
            total += static_cast<std::uint64_t>(st.st_blocks) * 512;
        else if (S_ISBLK(st.st_mode))
            total += image::ImageFile::open(path, image::ImageOrigin::host).size();
    }
    return total;
}

// The largest disks first: whatever follows each copy (the comparison of
// virtsnap-backup, a second job's last disk) then waits on the smallest.
std::vector<size_t> largest_first(const xml::Manifest& manifest) {
    std::vector<std::pair<std::uint64_t, size_t>> sized;
    for (size_t i = 0; i < manifest.disks.size(); ++i)
        sized.emplace_back(stored_bytes(manifest.disks[i]), i);
    std::stable_sort(sized.begin(), sized.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<size_t> order;
    order.reserve(sized.size());
    for (const auto& entry : sized)
        order.push_back(entry.second);
    return order;
}

void refuse_existing(const xml::Manifest& manifest, const CopySettings& settings, const std::string& dir) {
    std::vector<std::string> sources;
    for (const xml::ManifestDisk& disk : manifest.disks) {
        const DiskCopyRequest request = request_for(disk);
        const std::vector<std::string> names = output_names(request, settings);
        for (const SourceImage& image : request.chain)
            sources.push_back(image.path);
        refuse_sources_as_outputs(dir, names, sources);
        if (settings.force)
            continue;
        std::vector<std::string> all = names;
        if (settings.block_sums)
            all.push_back(store::block_sums_file_name(disk.target));
        for (const std::string& name : all) {
            const std::string path = dir + "/" + name;
            struct stat st {};
            if (::lstat(path.c_str(), &st) == 0)
                throw util::RefusedError("backup file " + quoted(path) +
                                         " already exists; nothing was copied (--force replaces it)");
        }
    }
}

} // namespace

DiskCopyRequest request_for(const xml::SnapshotDisk& disk) {
    DiskCopyRequest request;
    request.target = disk.target;
    request.chain.push_back({disk.frozen, disk.format});
    for (const xml::ChainImage& image : disk.chain)
        request.chain.push_back({image.path, image.format});
    request.virtual_size = disk.virtual_size;
    return request;
}

std::vector<std::string> output_names(const DiskCopyRequest& request, const CopySettings& settings) {
    return store::disk_file_names(request.target, settings.format,
                                  settings.keep_chain ? request.chain.size() : 1);
}

void refuse_sources_as_outputs(const std::string& dir, const std::vector<std::string>& names,
                               const std::vector<std::string>& sources) {
    std::vector<std::pair<image::FileIdentity, std::string>> identities;
    for (const std::string& source : sources)
        if (std::optional<image::FileIdentity> id = image::identity_at(source))
            identities.emplace_back(*id, source);
    for (const std::string& name : names)
        for (const std::string& path : {dir + "/" + name, dir + "/" + store::partial_name(name)}) {
            std::optional<image::FileIdentity> id = image::identity_at(path);
            if (!id)
                continue;
            for (const auto& [source_id, source] : identities)
                if (*id == source_id)
                    throw util::RefusedError(quoted(path) + " is the image " + quoted(source) +
                                             " being copied; a source is never a destination "
                                             "(choose another directory); nothing was written");
        }
}

xml::DiskBackup copy_disk(const DiskCopyRequest& request, const CopySettings& settings, OutputFiles& outputs,
                          const util::Log& log) {
    const SourceChain source = SourceChain::open(request.chain, request.origin, request.virtual_size,
                                                 "disk " + quoted(request.target));
    xml::DiskBackup backup;
    backup.format = settings.format;
    backup.flattened = !settings.keep_chain;
    backup.compressed = settings.compress;
    backup.chunk_size = image::default_chunk_size;
    // What a restore recreates: the disk's own image, which is below the
    // top one when that is the overlay a full or inc kept.
    const bool on_kept_overlay = source.layers() > 1 && xml::looks_like_overlay(request.chain.front().path);
    backup.source_options = options_of(source.info(on_kept_overlay ? 1 : 0));
    const std::vector<std::string> names = output_names(request, settings);

    if (!settings.incremental_parent.empty()) {
        if (settings.format != "qcow2" || settings.keep_chain ||
            (source.layers() < 2 && !settings.by_content))
            throw util::Error("an incremental copy of disk " + quoted(request.target) +
                              " is one qcow2 layer of an image with a backing chain");
        const image::BlockSums* parent_sums = nullptr;
        if (settings.block_sums && settings.checksums && settings.block_sums_below) {
            auto found = settings.block_sums_below->find(request.target);
            if (found != settings.block_sums_below->end())
                parent_sums = &found->second;
        }
        LayerJob job;
        job.map = source.map(0);
        // The layer's clusters are the kept overlay's; a range that covers
        // part of one is written whole, read as the chain reads there, or the
        // rest of the cluster would read as zeros instead of what is below.
        const std::optional<xml::Qcow2Options> layer_options = options_of(source.info(0));
        const std::uint64_t layer_cluster =
            layer_options ? layer_options->cluster_size : default_cluster_size;
        std::optional<image::BlockSums> now;
        if (settings.by_content) {
            if (!parent_sums)
                throw util::Error("internal error: a copy by content of disk " + quoted(request.target) +
                                  " without the block sums of its parent set");
            now = read_block_sums_of_disk(source, job.map, settings, request.target, log);
            const std::vector<image::Extent> changed = image::differing_blocks(*now, *parent_sums);
            std::uint64_t changed_bytes = 0;
            for (const image::Extent& range : changed)
                changed_bytes += range.length;
            log.debug(request.target + ": by content: read the whole disk (" +
                      std::to_string(now->digests().size()) + " blocks of 64 KiB); " +
                      util::format_size(changed_bytes) + " in blocks that differ from set " +
                      settings.incremental_parent + " (" + std::to_string(parent_sums->unknown()) +
                      " unknown there) go into the layer");
            job.plan =
                plan_changed(job.map, whole_clusters(changed, layer_cluster, source.size()), source.size());
        } else if (settings.changed_since_parent) {
            auto below = settings.changed_since_parent->find(request.target);
            if (below == settings.changed_since_parent->end())
                throw util::Error("a differential copy of disk " + quoted(request.target) +
                                  " was not told what changed below its top image");
            std::vector<image::Extent> changed = below->second;
            for (const image::Extent& extent : job.map)
                if (extent.depth == 0 && (extent.present || extent.data || extent.zero))
                    changed.push_back(extent);
            job.plan =
                plan_changed(job.map, whole_clusters(changed, layer_cluster, source.size()), source.size());
        } else {
            job.plan = plan_layer(job.map, source.size(), true);
        }
        job.options = layer_options;
        job.name = names[0];
        // The parent's image of the disk, beside this set: relative, so a
        // destination moved or mounted elsewhere keeps its chains.
        job.backing =
            "../" + settings.incremental_parent + "/" + store::disk_file_names(request.target, "qcow2", 1)[0];
        std::optional<image::BlockSumsBuilder> sums;
        if (parent_sums && !now)
            sums.emplace(*parent_sums, held_ranges(job.plan));
        xml::BackupFile file =
            copy_layer(source, job, settings, request.target, outputs, log, sums ? &*sums : nullptr);
        file.backing = store::disk_file_names(request.target, "qcow2", 1)[0];
        file.backing_set = settings.incremental_parent;
        backup.flattened = false;
        backup.files.push_back(std::move(file));
        if (sums)
            now = sums->finish();
        if (now)
            write_block_sums(request.target, *now, outputs, backup);
        return backup;
    }

    if (!settings.keep_chain) {
        LayerJob job;
        job.map = source.map(0);
        job.plan = plan_flattened(job.map, source.size());
        job.options = settings.qcow2_options ? settings.qcow2_options : backup.source_options;
        job.name = names[0];
        std::optional<image::BlockSumsBuilder> sums;
        if (settings.block_sums && settings.checksums && settings.format == "qcow2")
            sums.emplace(source.size());
        backup.files.push_back(
            copy_layer(source, job, settings, request.target, outputs, log, sums ? &*sums : nullptr));
        if (sums)
            write_block_sums(request.target, sums->finish(), outputs, backup);
        return backup;
    }

    // Bottom layer first: each layer above names the one below as its backing.
    std::vector<xml::BackupFile> files(source.layers());
    for (size_t i = source.layers(); i-- > 0;) {
        LayerJob job;
        job.layer = i;
        job.map = source.map(i);
        const bool has_backing = i + 1 < source.layers();
        // The top layer is the disk (its exact size); each layer below keeps
        // its own size (a disk may have grown since it was made).
        job.plan = plan_layer(job.map, i == 0 ? source.size() : source.info(i).virtual_size, has_backing);
        job.options = options_of(source.info(i));
        job.name = names[i];
        job.backing = has_backing ? names[i + 1] : "";
        const std::string label = i == 0 ? request.target : request.target + " layer " + std::to_string(i);
        files[i] = copy_layer(source, job, settings, label, outputs, log);
    }
    backup.files = std::move(files);
    return backup;
}

std::string prepare_backup_directory(const std::string& dir, mode_t mode) {
    try {
        store::ensure_directory(dir, mode);
    } catch (const util::SystemError& error) {
        if (error.error_number() == EROFS || error.error_number() == EACCES)
            throw util::RefusedError(std::string(error.what()) + "; the destination is not writable");
        throw;
    }
    char resolved[PATH_MAX];
    if (!::realpath(dir.c_str(), resolved))
        throw util::SystemError("cannot resolve " + quoted(dir), errno);
    if (::access(resolved, W_OK) != 0)
        throw util::RefusedError("destination " + quoted(resolved) + " is not writable");
    return resolved;
}

void copy_disks(xml::Manifest& manifest, const CopySettings& settings, OutputFiles& outputs,
                const util::Log& log) {
    refuse_existing(manifest, settings, outputs.dir());
    // Workers take the next disk; the first failure stops the others at
    // their next window, and the failure of the lowest disk is reported.
    const std::vector<size_t> order = largest_first(manifest);
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::exception_ptr> errors(manifest.disks.size());
    CopySettings worker_settings = settings;
    worker_settings.check = [&] {
        if (failed)
            throw StoppedByOtherDisk("stopped: another disk failed");
        if (settings.check)
            settings.check();
    };
    auto work = [&] {
        for (size_t n = next++; n < order.size(); n = next++) {
            const size_t i = order[n];
            xml::ManifestDisk& disk = manifest.disks[i];
            try {
                if (failed)
                    return;
                struct stat st {};
                if (!manifest.offline && ::lstat(disk.overlay.c_str(), &st) != 0)
                    throw util::RefusedError(
                        "its overlay " + quoted(disk.overlay) +
                        " is gone, so the frozen image may be written to again; take a new snapshot");
                util::PhaseTimer copying("copy " + disk.target);
                disk.backup = copy_disk(request_for(disk), worker_settings, outputs, log);
                copying.stop();
                if (settings.publish_each_disk) {
                    util::PhaseTimer publishing("publish " + disk.target);
                    std::vector<std::string> names;
                    for (const xml::BackupFile& file : disk.backup->files)
                        names.push_back(file.name);
                    if (disk.backup->block_sums)
                        names.push_back(disk.backup->block_sums->name);
                    outputs.publish(names, false);
                }
                util::pause_point("disk-copied");
                if (settings.copied)
                    settings.copied(i);
            } catch (...) {
                errors[i] = std::current_exception();
                failed = true;
            }
        }
    };
    const size_t threads = std::min<size_t>(std::max(settings.jobs, 1U), manifest.disks.size());
    std::vector<std::thread> workers;
    for (size_t t = 1; t < threads; ++t)
        workers.push_back(util::start_thread(work));
    work();
    for (std::thread& worker : workers)
        worker.join();
    for (size_t i = 0; i < errors.size(); ++i) {
        if (!errors[i])
            continue;
        try {
            std::rethrow_exception(errors[i]);
        } catch (const StoppedByOtherDisk&) {
            continue; // the other disk's error is the one to report
        } catch (const util::Error& error) {
            rethrow_for_disk(error, manifest.disks[i], outputs.dir());
        }
    }
    manifest.backup_dir = outputs.dir();
}

} // namespace virtsnap::copy
