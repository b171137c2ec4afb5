#include "job/diff_ranges.hpp"

#include "store/backup_set.hpp"
#include "store/set_chain.hpp"
#include "store/set_images.hpp"
#include "util/error.hpp"

namespace virtsnap::job {

std::map<std::string, std::vector<image::Extent>>
changed_since_full(const std::string& domain_dir, const std::string& set_id, const xml::Manifest& manifest) {
    const store::BackupSet newest = store::read_set(domain_dir + "/" + set_id);
    std::map<std::string, std::vector<image::Extent>> changed;
    for (const xml::ManifestDisk& disk : manifest.disks) {
        const xml::ManifestDisk* held = newest.manifest->find_disk(disk.target);
        if (!held || !held->backup)
            throw util::InputError("backup set " + util::quoted(newest.path) + " holds no backup of disk " +
                                   util::quoted(disk.target));
        const store::DiskChain chain = store::disk_chain(newest.path, *newest.manifest, *held);
        store::check_chain_images(chain);
        std::vector<image::Extent>& ranges = changed[disk.target];
        // The last set of the chain is the full: what the diff is taken against.
        for (std::size_t k = 0; k + 1 < chain.sets.size(); ++k) {
            const std::string layer = chain.sets[k].path + "/" + chain.backups[k].files.front().name;
            for (const image::Extent& extent :
                 image::query_image_map(layer, "qcow2", util::OnInterrupt::stop_child))
                if (extent.depth == 0 && (extent.present || extent.data || extent.zero))
                    ranges.push_back(extent);
        }
    }
    return changed;
}

} // namespace virtsnap::job
