#pragma once
// A new, empty qcow2 image backed by another: the file an instant restore
// boots from. Made under a name that must be free, never written through
// whatever someone puts at that name meanwhile.

#include <string>

namespace virtsnap::image {

// Creates path (mode 0600, absent before: O_EXCL, no symlink followed),
// then has qemu-img write the qcow2 into that very file, named through
// this process's descriptor rather than the path, so a name swapped after
// the creation (a directory others can write to) is never written. The
// backing image is named by its absolute path with its format given, never
// probed. Throws RefusedError when something is at path already (nothing
// changed), Error when qemu-img fails (the file is removed).
void create_backed_image(const std::string& path, const std::string& backing,
                         const std::string& backing_format);

} // namespace virtsnap::image
