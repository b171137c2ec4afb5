#include "verify/guestfs_session.hpp"

#include "util/error.hpp"

#include <cstdlib>

namespace virtsnap::verify {

GuestfsSession::GuestfsSession() : g_(guestfs_create()) {
    if (!g_)
        throw util::GuestfsError("libguestfs cannot create a handle");
    guestfs_set_error_handler(g_.get(), nullptr, nullptr);
}

void GuestfsSession::fail(const std::string& action) const {
    const char* message = guestfs_last_error(g_.get());
    throw util::GuestfsError("libguestfs cannot " + action + ": " + (message ? message : "unknown error"));
}

std::vector<std::string> GuestfsSession::take_list(char** list, const std::string& action) const {
    if (!list)
        fail(action);
    std::vector<std::string> items;
    for (char** item = list; *item; ++item) {
        items.emplace_back(*item);
        std::free(*item);
    }
    std::free(list);
    return items;
}

void GuestfsSession::add_read_only(const std::string& path, const std::string& format) {
    if (guestfs_add_drive_opts(g_.get(), path.c_str(), GUESTFS_ADD_DRIVE_OPTS_READONLY, 1,
                               GUESTFS_ADD_DRIVE_OPTS_FORMAT, format.c_str(), -1) == -1)
        fail("add " + util::quoted(path));
}

void GuestfsSession::launch() {
    if (guestfs_launch(g_.get()) == -1)
        fail("launch its appliance");
}

void GuestfsSession::shutdown() {
    if (guestfs_shutdown(g_.get()) == -1)
        fail("shut its appliance down");
}

std::vector<std::string> GuestfsSession::devices() {
    return take_list(guestfs_list_devices(g_.get()), "list devices");
}

std::vector<std::pair<std::string, std::string>> GuestfsSession::filesystems() {
    std::vector<std::string> flat = take_list(guestfs_list_filesystems(g_.get()), "list filesystems");
    std::vector<std::pair<std::string, std::string>> pairs;
    for (size_t i = 0; i + 1 < flat.size(); i += 2)
        pairs.emplace_back(flat[i], flat[i + 1]);
    return pairs;
}

} // namespace virtsnap::verify
