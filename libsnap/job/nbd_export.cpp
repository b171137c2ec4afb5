#include "job/nbd_export.hpp"

#include "util/error.hpp"
#include "util/interrupt.hpp"
#include "util/joined_thread.hpp"
#include "util/subprocess.hpp"

#include <atomic>
#include <chrono>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace virtsnap::job {

using util::quoted;

namespace {

bool is_socket(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

} // namespace

std::vector<std::string> qemu_nbd_command(const std::string& image, const std::string& format,
                                          const std::string& socket) {
    return {"qemu-nbd",     "--read-only", "--format=" + format,
            "--persistent", "--shared=0",  "--socket=" + socket,
            "--",           image};
}

void export_restore_point(const PinnedPoint& point, const NbdSettings& settings, const util::Log& log) {
    struct stat st {};
    if (::lstat(settings.socket.c_str(), &st) == 0)
        throw util::RefusedError(quoted(settings.socket) +
                                 " exists; --nbd makes its socket afresh (remove it or choose another path)");
    size_t index = 0;
    while (index < point.disks.size() && point.disks[index]->target != settings.target)
        ++index;
    if (index == point.disks.size())
        throw util::InputError("backup set " + quoted(point.set.path) + " has no disk " +
                               quoted(settings.target));
    const store::DiskChain& chain = point.chains.at(index);

    // No appliance start to hide it under: the whole chain is read once
    // before the first client can read it.
    log.info("checking the checksums of disk " + quoted(chain.target));
    const std::vector<std::string> damaged = restore_point_damage(point, log);
    util::throw_if_interrupted();
    for (const std::string& damage : damaged) {
        if (!settings.force)
            throw util::VerificationMismatch(damage + "; nothing was exported (--force exports it anyway)");
        log.warn("exported although damaged (--force): " + damage);
    }

    const xml::DiskBackup whole = chain.backup();
    const std::vector<std::string> command =
        qemu_nbd_command(chain.paths().front(), whole.format, settings.socket);
    std::atomic<bool> ended{false};
    std::atomic<bool> ready{false};
    util::ProcessResult result;
    bool interrupted = false;
    {
        util::JoinedThread announce([&] {
            while (!ended && !is_socket(settings.socket))
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            if (ended)
                return;
            ready = true;
            log.info("disk " + quoted(chain.target) + " of backup set " + quoted(point.set.path) +
                     " exported read-only on nbd+unix:///?socket=" + settings.socket +
                     "; stop with a signal");
        });
        // The socket is root's alone (qemu-nbd makes it under the umask it
        // inherits): it serves a whole disk of the backup to whoever connects.
        const mode_t old_umask = ::umask(077);
        try {
            result = util::run_process(command, util::OnInterrupt::stop_child);
            ::umask(old_umask);
        } catch (const util::Interrupted&) {
            ::umask(old_umask);
            interrupted = true;
        } catch (...) {
            ::umask(old_umask);
            ended = true;
            throw;
        }
        ended = true;
    }
    // qemu-nbd removes its socket when it ends cleanly; not when killed.
    if (is_socket(settings.socket))
        ::unlink(settings.socket.c_str());
    if (interrupted && !ready)
        throw util::Interrupted("interrupted before the export of disk " + quoted(chain.target) +
                                " was ready; qemu-nbd is stopped");
    if (interrupted) {
        log.info("export of disk " + quoted(chain.target) + " stopped on " +
                 util::signal_name(util::interrupt_signal()));
        return;
    }
    throw util::Error("qemu-nbd " +
                      (result.succeeded() ? std::string("ended by itself") : result.describe_failure()) +
                      "; the export of disk " + quoted(chain.target) + " stopped");
}

} // namespace virtsnap::job
