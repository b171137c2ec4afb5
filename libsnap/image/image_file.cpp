#include "image/image_file.hpp"

#include "util/error.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace virtsnap::image {

using util::InputError;
using util::quoted;

bool FileIdentity::operator==(const FileIdentity& other) const noexcept {
    if (block != other.block)
        return false;
    return block ? special == other.special : device == other.device && inode == other.inode;
}

FileIdentity identity_of(const struct stat& st) {
    FileIdentity id;
    id.block = S_ISBLK(st.st_mode);
    id.device = st.st_dev;
    id.inode = st.st_ino;
    id.special = id.block ? st.st_rdev : 0;
    return id;
}

std::optional<FileIdentity> identity_at(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return std::nullopt;
    return identity_of(st);
}

ImageFile ImageFile::open(const std::string& path, ImageOrigin origin) {
    const bool from_set = origin == ImageOrigin::backup_set;
    int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    if (from_set)
        flags |= O_NOFOLLOW;
    util::UniqueFd fd(::open(path.c_str(), flags));
    if (!fd) {
        if (from_set && errno == ELOOP)
            throw InputError("backup file " + quoted(path) +
                             " is a symbolic link; a backup set holds only the files virtsnap wrote");
        throw util::SystemError("cannot open " + quoted(path), errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        throw util::SystemError("cannot inspect " + quoted(path), errno);
    std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    if (S_ISBLK(st.st_mode) && !from_set) {
        const off_t end = ::lseek(fd.get(), 0, SEEK_END);
        if (end < 0)
            throw util::SystemError("cannot find the size of " + quoted(path), errno);
        size = static_cast<std::uint64_t>(end);
    } else if (!S_ISREG(st.st_mode)) {
        throw InputError(quoted(path) + " is not a regular file" + (from_set ? "" : " or a block device") +
                         "; it cannot be a disk image");
    }
    // Reads block from here on, as for any image.
    const int status = ::fcntl(fd.get(), F_GETFL);
    if (status < 0 || ::fcntl(fd.get(), F_SETFL, status & ~O_NONBLOCK) != 0)
        throw util::SystemError("cannot use " + quoted(path), errno);
    return ImageFile(std::move(fd), path, identity_of(st), size);
}

void prove_chain(const std::vector<ImageFile>& files, const std::vector<std::string>& formats,
                 const std::vector<ImageInfo>& chain, const std::string& what) {
    if (formats.size() != files.size())
        throw util::Error("internal error: " + std::to_string(files.size()) + " images with " +
                          std::to_string(formats.size()) + " formats");
    if (chain.size() != files.size())
        throw InputError("the backing chain of " + what + " has " + std::to_string(chain.size()) +
                         " image(s), not the " + std::to_string(files.size()) +
                         " recorded; nothing was read");
    for (size_t i = 0; i < files.size(); ++i) {
        const std::string label = i == 0 ? "image" : "backing image " + std::to_string(i);
        if (chain[i].format != formats.at(i))
            throw InputError("the backing chain of " + what + ": " + label + " " + quoted(chain[i].filename) +
                             " has format " + quoted(chain[i].format) + ", not the recorded " +
                             quoted(formats[i]) + "; nothing was read");
        // qemu-img names each image by the path it opened (a relative
        // backing name resolved against the directory of the image naming
        // it); a pseudo-protocol name (json:{...}) names no file at all.
        std::optional<FileIdentity> resolved = identity_at(chain[i].filename);
        if (!resolved || *resolved != files[i].identity())
            throw InputError("the backing chain of " + what + ": " + label + " is " +
                             quoted(chain[i].filename) + ", not the recorded " + quoted(files[i].path()) +
                             "; nothing was read");
    }
}

} // namespace virtsnap::image
