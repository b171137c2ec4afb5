#include "verify/filesystem_check.hpp"

#include "util/error.hpp"

#include <guestfs.h>

#include <cstdlib>
#include <memory>

namespace virtsnap::verify {

namespace {

struct GuestfsDeleter {
    void operator()(guestfs_h* g) const noexcept { guestfs_close(g); }
};
using GuestfsPtr = std::unique_ptr<guestfs_h, GuestfsDeleter>;

[[noreturn]] void fail(guestfs_h* g, const std::string& action) {
    const char* message = guestfs_last_error(g);
    throw util::GuestfsError("libguestfs cannot " + action + ": " + (message ? message : "unknown error"));
}

// Takes ownership of a NULL-terminated list libguestfs allocated.
std::vector<std::string> take_list(guestfs_h* g, char** list, const std::string& action) {
    if (!list)
        fail(g, action);
    std::vector<std::string> items;
    for (char** item = list; *item; ++item) {
        items.emplace_back(*item);
        std::free(*item);
    }
    std::free(list);
    return items;
}

std::string take_string(guestfs_h* g, char* text, const std::string& action) {
    if (!text)
        fail(g, action);
    std::string result(text);
    std::free(text);
    return result;
}

// The read-only checker for a filesystem type, or empty.
std::string checker_for(const std::string& type, const std::string& device) {
    if (type == "ext2" || type == "ext3" || type == "ext4")
        return "e2fsck -f -n " + device;
    if (type == "xfs")
        return "xfs_repair -n " + device;
    if (type == "btrfs")
        return "btrfs check --readonly " + device;
    if (type == "vfat")
        return "fsck.vfat -n " + device;
    return "";
}

std::string first_lines(const std::string& text, size_t count) {
    std::string result;
    size_t start = 0;
    for (size_t n = 0; n < count && start < text.size(); ++n) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        if (end > start)
            result += (result.empty() ? "" : " / ") + text.substr(start, end - start);
        start = end + 1;
    }
    return result;
}

CheckOutcome check_one(guestfs_h* g, const std::string& device, const std::string& type) {
    if (type == "unknown")
        return {true, "no filesystem (unformatted, or not one libguestfs knows)"};
    if (type == "swap")
        return {true, "swap space, nothing to check"};
    const std::string checker = checker_for(type, device);
    if (checker.empty())
        return {true, type + ": not checked (no read-only checker for it)"};
    // The exit status comes last on its own line; the checker's words before it.
    std::string output = take_string(g, guestfs_sh(g, (checker + " 2>&1; echo \"exit=$?\"").c_str()),
                                     "run " + checker);
    size_t at = output.rfind("exit=");
    int status = at == std::string::npos ? -1 : std::atoi(output.c_str() + at + 5);
    if (status == 0)
        return {true, type + ": clean"};
    return {false, type + ": damaged (" + checker + " exited " + std::to_string(status) +
                       "): " + first_lines(output.substr(0, at), 3)};
}

} // namespace

std::vector<FilesystemVerdict> check_filesystems(const std::vector<DiskImage>& disks) {
    GuestfsPtr g(guestfs_create());
    if (!g)
        throw util::GuestfsError("libguestfs cannot create a handle");
    guestfs_set_error_handler(g.get(), nullptr, nullptr);
    for (const DiskImage& disk : disks)
        if (guestfs_add_drive_opts(g.get(), disk.path.c_str(), GUESTFS_ADD_DRIVE_OPTS_READONLY, 1,
                                   GUESTFS_ADD_DRIVE_OPTS_FORMAT, disk.format.c_str(), -1) == -1)
            fail(g.get(), "add " + util::quoted(disk.path));
    if (guestfs_launch(g.get()) == -1)
        fail(g.get(), "launch its appliance");
    std::vector<std::string> devices = take_list(g.get(), guestfs_list_devices(g.get()), "list devices");
    std::vector<std::string> found = take_list(g.get(), guestfs_list_filesystems(g.get()), "list filesystems");

    std::vector<FilesystemVerdict> verdicts;
    for (size_t i = 0; i + 1 < found.size(); i += 2) {
        FilesystemVerdict verdict;
        verdict.device = found[i];
        verdict.type = found[i + 1];
        // Devices come in the order the drives were added; a partition
        // belongs to the device its name starts with.
        verdict.disk = disks.size();
        for (size_t d = 0; d < devices.size() && d < disks.size(); ++d)
            if (verdict.device.compare(0, devices[d].size(), devices[d]) == 0)
                verdict.disk = d;
        verdict.outcome = check_one(g.get(), verdict.device, verdict.type);
        verdicts.push_back(std::move(verdict));
    }
    if (guestfs_shutdown(g.get()) == -1)
        fail(g.get(), "shut its appliance down");
    return verdicts;
}

} // namespace virtsnap::verify
