#pragma once
// Which domains use which images, so a restore never writes over an image
// a domain holds: a running domain's never, a shut-off domain's only with
// --force. Images are told apart by what they are, not how they are named:
// the same file reached through another directory, a link or a second name
// of a block device is the same image.

#include "image/image_file.hpp"
#include "virt/connection.hpp"

#include <string>
#include <vector>

namespace virtsnap::virt {

struct ImageUser {
    std::string domain;
    bool running = false;
    std::string path; // as the domain names it
};

class ImageUsers {
  public:
    // Every image (disk sources and their backing chains, live and
    // persistent definitions) of every domain of the connection.
    static ImageUsers of(const Connection& conn);

    // The domain using the image path names, or null: by identity when the
    // file exists, else by the name.
    const ImageUser* find(const std::string& path) const;

  private:
    struct Entry {
        std::optional<image::FileIdentity> identity;
        ImageUser user;
    };
    std::vector<Entry> entries_;
};

} // namespace virtsnap::virt
