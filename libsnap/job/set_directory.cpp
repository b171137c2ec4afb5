#include "job/set_directory.hpp"

#include "store/backup_set.hpp"
#include "store/durable_file.hpp"
#include "util/error.hpp"
#include "util/pause_point.hpp"

#include <cerrno>
#include <sys/stat.h>

namespace virtsnap::job {

using util::quoted;

SetDirectory::SetDirectory(std::string path) : path_(std::move(path)) {
    if (::mkdir(path_.c_str(), 0700) != 0)
        throw util::SystemError("cannot create the backup set directory " + quoted(path_), errno);
}

SetDirectory::~SetDirectory() {
    if (kept_)
        return;
    try {
        store::remove_set(path_);
    } catch (const std::exception&) {
        // Without its marker the set is never offered for restore, and the
        // next backup of the domain (or --recover) removes it.
    }
}

void SetDirectory::complete(const Definitions& definitions, const xml::Manifest& manifest) {
    if (!definitions.persistent.empty())
        store::write_durable(path_ + "/" + store::set_domain_xml_file, definitions.persistent);
    if (!definitions.live.empty())
        store::write_durable(path_ + "/" + store::set_live_domain_xml_file, definitions.live);
    store::write_durable(path_ + "/" + store::set_manifest_file, xml::to_xml(manifest));
    util::pause_point("before-complete");
    store::mark_complete(path_, manifest.snapshot_id);
    kept_ = true;
}

} // namespace virtsnap::job
