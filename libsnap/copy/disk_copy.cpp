#include "copy/disk_copy.hpp"

#include "copy/content_copier.hpp"
#include "copy/image_map.hpp"
#include "copy/image_writer.hpp"
#include "copy/qcow2_file_writer.hpp"
#include "copy/source_reader.hpp"
#include "store/durable_file.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/pause_point.hpp"
#include "util/progress.hpp"
#include "util/subprocess.hpp"
#include "util/unique_fd.hpp"
#include "verify/content_hash.hpp"
#include "virt/qemu_img.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <exception>
#include <fcntl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace virtsnap::copy {

using util::quoted;

namespace {

constexpr std::uint64_t default_cluster_size = 65536;

std::optional<xml::Qcow2Options> options_of(const virt::ImageInfo& info) {
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

// The chain qemu-img sees must be the one the manifest names: the copy reads
// the files qemu-img maps, so a difference means the manifest is stale.
void check_chain(const xml::ManifestDisk& disk, const std::vector<virt::ImageInfo>& chain) {
    bool same = chain.size() == disk.chain.size() + 1 && chain[0].format == disk.format;
    for (size_t i = 0; same && i < disk.chain.size(); ++i)
        same = chain[i + 1].format == disk.chain[i].format;
    if (!same)
        throw util::InputError(
            "the backing chain of " + quoted(disk.frozen) + " (" + std::to_string(chain.size()) +
            " image(s)) is not the one the manifest records (" + std::to_string(disk.chain.size() + 1) + ")");
    for (const virt::ImageInfo& image : chain)
        if (image.encrypted)
            throw util::RefusedError("image " + quoted(image.filename) +
                                     " is encrypted; virtsnap cannot copy encrypted images");
}

// A plain version 3 qcow2 is written by virtsnap itself; compression and
// the rarer layouts (compat 0.10, extended L2 entries) go through qemu-nbd.
bool writes_qcow2_directly(const std::optional<xml::Qcow2Options>& options, const CopySettings& settings) {
    return !settings.compress && (!options || (options->compat != "0.10" && !options->extended_l2));
}

// A raw file without a backing chain needs no qemu-img: its size is the
// file's and its holes are the file system's (two fewer processes to start
// per disk, which is most of the fixed cost of copying a small disk).
bool plain_raw_file(const xml::ManifestDisk& disk) {
    struct stat st {};
    return disk.format == "raw" && disk.chain.empty() && ::stat(disk.frozen.c_str(), &st) == 0 &&
           S_ISREG(st.st_mode);
}

std::vector<virt::ImageInfo> describe_chain(const xml::ManifestDisk& disk) {
    if (!plain_raw_file(disk))
        return virt::query_image_chain(disk.frozen, disk.format);
    struct stat st {};
    if (::stat(disk.frozen.c_str(), &st) != 0)
        throw util::SystemError("cannot stat " + quoted(disk.frozen), errno);
    virt::ImageInfo info;
    info.filename = disk.frozen;
    info.format = "raw";
    info.virtual_size = static_cast<std::uint64_t>(st.st_size);
    info.actual_size = static_cast<std::uint64_t>(st.st_blocks) * 512;
    return {info};
}

struct LayerJob {
    ImageLayers layers; // the source: this layer and the ones below it
    std::vector<Extent> map;
    CopyPlan plan;
    bool through_qemu = false;
    std::optional<xml::Qcow2Options> options;
    std::string name;    // output file name
    std::string backing; // output backing file name, or empty
};

util::UniqueFd create_private_file(const std::string& path) {
    // A .partial left by a killed run is ours and worthless.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw util::SystemError("cannot remove the leftover " + quoted(path), errno);
    util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd)
        throw util::SystemError("cannot create " + quoted(path), errno);
    return fd;
}

xml::BackupFile copy_layer(const LayerJob& job, const CopySettings& settings, const std::string& label,
                           CreatedFiles& created, const util::Log& log) {
    const std::string final_path = settings.dir + "/" + job.name;
    const std::string partial = final_path + ".partial";
    util::UniqueFd fd = create_private_file(partial);
    created.add(partial);

    std::unique_ptr<ImageWriter> writer;
    CopyPlan plan = job.plan;
    if (settings.format == "raw") {
        writer = std::make_unique<RawFileWriter>(std::move(fd), partial, plan.virtual_size);
    } else if (writes_qcow2_directly(job.options, settings)) {
        Qcow2Layout layout;
        layout.virtual_size = plan.virtual_size;
        layout.cluster_size = job.options ? job.options->cluster_size : default_cluster_size;
        layout.lazy_refcounts = job.options && job.options->lazy_refcounts;
        layout.backing = job.backing;
        layout.backing_format = job.backing.empty() ? "" : "qcow2";
        writer = std::make_unique<Qcow2FileWriter>(std::move(fd), partial, layout);
    } else {
        fd.reset();
        // Over the file made above, so the image keeps its mode 0600.
        std::vector<std::string> argv{
            "qemu-img", "create", "-q", "-f", "qcow2", "-o", create_options(job.options)};
        if (!job.backing.empty())
            argv.insert(argv.end(), {"-b", job.backing, "-F", "qcow2"});
        argv.insert(argv.end(), {partial, std::to_string(plan.virtual_size)});
        util::run_checked(argv);
        writer = std::make_unique<Qcow2Writer>(partial, settings.compress);
        if (settings.compress)
            plan.write_unit = job.options ? job.options->cluster_size : default_cluster_size;
    }

    std::unique_ptr<SourceReader> reader = open_source_reader(job.layers, job.map, job.through_qemu);
    verify::ContentHasher hasher(plan.virtual_size, verify::default_chunk_size);
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
              " ms finding zero blocks and hashing (on the reading thread) and " +
              std::to_string(util::to_ms(stats.finishing)) + " ms finishing the image (metadata, fsync)");

    if (::rename(partial.c_str(), final_path.c_str()) != 0)
        throw util::SystemError("cannot rename " + quoted(partial) + " to " + quoted(final_path), errno);
    created.renamed(partial, final_path);
    store::sync_directory(settings.dir);

    struct stat st {};
    if (::stat(final_path.c_str(), &st) != 0)
        throw util::SystemError("cannot stat " + quoted(final_path), errno);
    xml::BackupFile file{job.name,
                         job.backing,
                         static_cast<std::uint64_t>(st.st_blocks) * 512,
                         hasher.data_bytes(),
                         hasher.checksum(),
                         hasher.chunks()};
    progress.finish(util::format_size(file.data_bytes) + " of data in " + quoted(final_path));
    return file;
}

// A disk copy abandoned because a disk copied beside it failed.
class StoppedByOtherDisk : public util::Error {
  public:
    using util::Error::Error;
};

void refuse_existing(const xml::Manifest& manifest, const CopySettings& settings) {
    for (const xml::ManifestDisk& disk : manifest.disks)
        for (const std::string& name : backup_file_names(disk, settings)) {
            const std::string path = settings.dir + "/" + name;
            if (::access(path.c_str(), F_OK) == 0)
                throw util::RefusedError("backup file " + quoted(path) +
                                         " already exists; nothing was copied (--force replaces it)");
        }
}

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
        if (S_ISREG(st.st_mode)) {
            total += static_cast<std::uint64_t>(st.st_blocks) * 512;
        } else if (S_ISBLK(st.st_mode)) {
            util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
            const off_t end = fd ? ::lseek(fd.get(), 0, SEEK_END) : -1;
            if (end > 0)
                total += static_cast<std::uint64_t>(end);
        }
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
    for (const auto& entry : sized)
        order.push_back(entry.second);
    return order;
}

} // namespace

std::vector<std::string> backup_file_names(const xml::ManifestDisk& disk, const CopySettings& settings) {
    std::vector<std::string> names{disk.target + "." + settings.format};
    if (settings.keep_chain)
        for (size_t i = 1; i <= disk.chain.size(); ++i)
            names.push_back(disk.target + "." + std::to_string(i) + ".qcow2");
    return names;
}

CreatedFiles::~CreatedFiles() {
    for (const std::string& path : paths_)
        ::unlink(path.c_str());
}

void CreatedFiles::add(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    paths_.push_back(path);
}

void CreatedFiles::keep() {
    std::lock_guard<std::mutex> lock(mutex_);
    paths_.clear();
}

void CreatedFiles::renamed(const std::string& from, const std::string& to) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::string& path : paths_)
        if (path == from)
            path = to;
}

xml::DiskBackup copy_disk(const xml::ManifestDisk& disk, const CopySettings& settings, CreatedFiles& created,
                          const util::Log& log) {
    std::vector<virt::ImageInfo> chain = describe_chain(disk);
    check_chain(disk, chain);
    bool through_qemu = false;
    ImageLayers all;
    all.paths.push_back(disk.frozen);
    all.formats.push_back(disk.format);
    for (const xml::ChainImage& image : disk.chain) {
        all.paths.push_back(image.path);
        all.formats.push_back(image.format);
    }
    for (const virt::ImageInfo& image : chain)
        through_qemu = through_qemu || !image.data_file.empty();

    xml::DiskBackup backup;
    backup.format = settings.format;
    backup.flattened = !settings.keep_chain;
    backup.compressed = settings.compress;
    backup.chunk_size = verify::default_chunk_size;
    backup.source_options = options_of(chain[0]);
    const std::vector<std::string> names = backup_file_names(disk, settings);

    if (!settings.keep_chain) {
        LayerJob job;
        job.layers = all;
        job.map = plain_raw_file(disk) ? map_sparse_file(disk.frozen, chain[0].virtual_size)
                                       : query_image_map(disk.frozen, disk.format);
        job.plan = plan_flattened(job.map, chain[0].virtual_size);
        job.through_qemu = through_qemu;
        job.options = settings.qcow2_options ? settings.qcow2_options : backup.source_options;
        job.name = names[0];
        backup.files.push_back(copy_layer(job, settings, disk.target, created, log));
        return backup;
    }

    // Bottom layer first: each layer above names the one below as its backing.
    std::vector<xml::BackupFile> files(chain.size());
    for (size_t i = chain.size(); i-- > 0;) {
        LayerJob job;
        job.layers.paths.assign(all.paths.begin() + static_cast<std::ptrdiff_t>(i), all.paths.end());
        job.layers.formats.assign(all.formats.begin() + static_cast<std::ptrdiff_t>(i), all.formats.end());
        job.map = query_image_map(job.layers.paths[0], job.layers.formats[0]);
        const bool has_backing = i + 1 < chain.size();
        job.plan = plan_layer(job.map, chain[i].virtual_size, has_backing);
        job.through_qemu = through_qemu;
        job.options = options_of(chain[i]);
        job.name = names[i];
        job.backing = has_backing ? names[i + 1] : "";
        const std::string label = i == 0 ? disk.target : disk.target + " layer " + std::to_string(i);
        files[i] = copy_layer(job, settings, label, created, log);
    }
    backup.files = std::move(files);
    return backup;
}

std::string prepare_backup_directory(const std::string& dir, mode_t mode) {
    store::ensure_directory(dir, mode);
    char resolved[PATH_MAX];
    if (!::realpath(dir.c_str(), resolved))
        throw util::SystemError("cannot resolve " + quoted(dir), errno);
    if (::access(resolved, W_OK) != 0)
        throw util::RefusedError("destination " + quoted(resolved) + " is not writable");
    return resolved;
}

void copy_disks(xml::Manifest& manifest, const CopySettings& settings, CreatedFiles& created,
                const util::Log& log) {
    if (!settings.force)
        refuse_existing(manifest, settings);
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
                if (!manifest.offline && ::access(disk.overlay.c_str(), F_OK) != 0)
                    throw util::RefusedError(
                        "its overlay " + quoted(disk.overlay) +
                        " is gone, so the frozen image may be written to again; take a new snapshot");
                disk.backup = copy_disk(disk, worker_settings, created, log);
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
            rethrow_for_disk(error, manifest.disks[i], settings.dir);
        }
    }
    manifest.backup_dir = settings.dir;
}

} // namespace virtsnap::copy
