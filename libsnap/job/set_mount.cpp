#include "job/set_mount.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/joined_thread.hpp"
#include "util/mount_info.hpp"
#include "util/subprocess.hpp"
#include "verify/guest_mounts.hpp"
#include "verify/guestfs_session.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace virtsnap::job {

namespace {

std::string canonical_directory(const std::string& path) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved))
        throw util::InputError("cannot use " + util::quoted(path) +
                               " as a mount point: " + std::strerror(errno));
    struct stat st {};
    if (::stat(resolved, &st) != 0 || !S_ISDIR(st.st_mode))
        throw util::InputError("cannot use " + util::quoted(path) + " as a mount point: not a directory");
    return resolved;
}

// The mount point -u names. A mount whose virtsnap-mount was killed
// answers every look with ENOTCONN: its path is then taken as written,
// made absolute and normalised, for the mount table to say what it is.
std::string mounted_directory(const std::string& path) {
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) || errno != ENOTCONN)
        return canonical_directory(path);
    std::string normal = std::filesystem::absolute(path).lexically_normal().string();
    while (normal.size() > 1 && normal.back() == '/')
        normal.pop_back();
    return normal;
}

// fusermount unmounts a FUSE mount for its owner as for root; the result
// says why it could not (busy: a shell or a file open in it).
util::ProcessResult fuse_unmount(const std::string& mount_point) {
    return util::run_process({"fusermount3", "-u", "--", mount_point});
}

// Unmounts on a signal while the FUSE loop serves, which only the mount
// going away ends; a busy mount is tried again every second.
class SignalUnmounter {
  public:
    SignalUnmounter(std::string mount_point, const util::Log& log)
        : mount_point_(std::move(mount_point)), log_(log), thread_([this] { watch(); }) {}
    ~SignalUnmounter() { done_ = true; } // the thread is joined after this
    void stop() { done_ = true; }

  private:
    void watch() {
        bool warned = false;
        while (!done_) {
            if (util::interrupted()) {
                const std::string failure = unmount();
                if (failure.empty())
                    return;
                if (!warned)
                    log_.warn("cannot unmount " + util::quoted(mount_point_) + " yet (" + failure +
                              "); trying again every second");
                warned = true;
                std::this_thread::sleep_for(std::chrono::seconds(1));
                continue;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }

    // Empty when unmounted, else why not. An exception must not end this
    // thread (that would abort with the mount left): without fusermount3
    // (fuse3 is only recommended), root unmounts with umount(2).
    std::string unmount() const {
        try {
            const util::ProcessResult result = fuse_unmount(mount_point_);
            return result.succeeded() ? std::string() : result.describe_failure();
        } catch (const util::Error& error) {
            if (::umount2(mount_point_.c_str(), 0) == 0)
                return {};
            const int umount_error = errno;
            return std::string(error.what()) + "; umount: " + std::strerror(umount_error);
        }
    }

    std::string mount_point_;
    const util::Log& log_;
    std::atomic<bool> done_{false};
    util::JoinedThread thread_; // last: started once the members it reads exist
};

// The checksums, on a thread beside the appliance's start.
struct DamageCheck {
    std::vector<std::string> damaged;
    std::exception_ptr failed;
};

void report_damage(const DamageCheck& check, bool force, const util::Log& log) {
    if (check.failed)
        std::rethrow_exception(check.failed);
    if (check.damaged.empty())
        return;
    if (!force) {
        const std::string more = check.damaged.size() > 1
                                     ? " (and " + std::to_string(check.damaged.size() - 1) + " more)"
                                     : std::string();
        throw util::VerificationMismatch(check.damaged.front() + more +
                                         "; nothing was mounted (--force mounts it anyway)");
    }
    for (const std::string& damage : check.damaged)
        log.warn("mounted although damaged (--force): " + damage);
}

void mount_filesystems(verify::GuestfsSession& session, const util::Log& log) {
    if (verify::mount_inspected(session)) {
        log.debug("mounted the guest's filesystems as its OS lays them out");
        return;
    }
    const auto mounted = verify::mount_each_filesystem(session);
    if (mounted.empty())
        throw util::InputError("the backup holds no filesystem that can be mounted");
    for (const auto& [device, directory] : mounted)
        log.debug("no OS found: " + device + " on " + directory);
}

// Whether process pid still runs: a zombie has ended (its parent, a shell
// that started it in the background, may not have reaped it yet).
bool process_running(long pid) {
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM)
        return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return false;
    // "PID (COMM) STATE ...": COMM may hold spaces and parentheses.
    const size_t close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

} // namespace

long mount_owner(const std::string& fstype, const std::string& source) {
    const std::string prefix = std::string(mount_fsname) + ":";
    if ((fstype != "fuse" && fstype.rfind("fuse.", 0) != 0) || source.rfind(prefix, 0) != 0)
        return 0;
    const std::string digits = source.substr(prefix.size());
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
        return 0;
    return std::stol(digits);
}

void mount_restore_point(const PinnedPoint& point, const MountSettings& settings, const util::Log& log) {
    const std::string mount_point = canonical_directory(settings.mount_point);
    if (std::optional<util::MountEntry> there = util::find_mount(mount_point);
        there && mount_owner(there->fstype, there->source) != 0)
        throw util::RefusedError(util::quoted(mount_point) + " is already a virtsnap-mount mount");

    verify::GuestfsSession session;
    // The appliance in a process group of its own: a Ctrl-C reaches
    // virtsnap-mount alone, which then unmounts before stopping it.
    if (guestfs_set_pgroup(session.get(), 1) == -1)
        session.fail("set its process group");
    for (const xml::ManifestDisk* disk : point.disks)
        session.add_read_only(point.set.path + "/" + disk->backup->files.front().name, disk->backup->format);

    DamageCheck check;
    {
        util::JoinedThread checking([&] {
            try {
                check.damaged = restore_point_damage(point, log);
            } catch (...) {
                check.failed = std::current_exception();
            }
        });
        log.info("starting the libguestfs appliance; checking the checksums meanwhile");
        try {
            session.launch();
        } catch (const util::GuestfsError&) {
            util::throw_if_interrupted(); // a signal cut the start short
            throw;
        }
    }
    util::throw_if_interrupted();
    report_damage(check, settings.force, log);
    mount_filesystems(session, log);
    util::throw_if_interrupted();

    // ro: the kernel itself refuses writes, before they reach libguestfs.
    const std::string options = "ro,fsname=" + std::string(mount_fsname) + ":" + std::to_string(::getpid()) +
                                ",subtype=" + mount_fsname;
    if (guestfs_mount_local(session.get(), mount_point.c_str(), GUESTFS_MOUNT_LOCAL_READONLY, 1,
                            GUESTFS_MOUNT_LOCAL_OPTIONS, options.c_str(), -1) == -1)
        session.fail("mount on " + util::quoted(mount_point));
    {
        SignalUnmounter unmounter(mount_point, log);
        log.info("backup set " + util::quoted(point.set.path) + " mounted read-only on " +
                 util::quoted(mount_point) + "; unmount with virtsnap-mount -u " + util::quoted(mount_point) +
                 " or a signal");
        const int served = guestfs_mount_local_run(session.get());
        unmounter.stop();
        if (served == -1)
            session.fail("serve the mount on " + util::quoted(mount_point));
    }
    session.shutdown();
    log.info("unmounted " + util::quoted(mount_point) +
             (util::interrupted() ? std::string(" on ") + util::signal_name(util::interrupt_signal()) : ""));
}

void unmount_restore_point(const std::string& mount_point, const util::Log& log) {
    const std::string path = mounted_directory(mount_point);
    const std::optional<util::MountEntry> entry = util::find_mount(path);
    if (!entry)
        throw util::InputError("nothing is mounted on " + util::quoted(path));
    const long owner = mount_owner(entry->fstype, entry->source);
    if (owner == 0)
        throw util::RefusedError(util::quoted(path) + " is not a virtsnap-mount mount (it is " +
                                 util::quoted(entry->fstype) + " from " + util::quoted(entry->source) +
                                 "); nothing was unmounted");
    const util::ProcessResult result = fuse_unmount(path);
    if (!result.succeeded())
        throw util::Error("cannot unmount " + util::quoted(path) + ": fusermount3 " +
                          result.describe_failure());
    log.debug("unmounted " + util::quoted(path) + "; waiting for virtsnap-mount (process " +
              std::to_string(owner) + ") to end");
    // Bounded: the PID may have been reused by a process that stays.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (process_running(owner)) {
        if (std::chrono::steady_clock::now() > deadline) {
            log.warn("virtsnap-mount (process " + std::to_string(owner) + ") has not ended after a minute");
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

} // namespace virtsnap::job
