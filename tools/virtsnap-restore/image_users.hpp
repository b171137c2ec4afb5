#pragma once
// Which domains use which images, so a restore never writes over an image
// a domain holds: a running domain's never, a shut-off domain's only with
// --force.

#include "virt/connection.hpp"

#include <map>
#include <string>

namespace virtsnap::restore {

struct ImageUser {
    std::string domain;
    bool running = false;
};

// Every image path (disk sources and their backing chains, live and
// persistent definitions) of every domain of the connection.
std::map<std::string, ImageUser> images_in_use(const virt::Connection& conn);

} // namespace virtsnap::restore
